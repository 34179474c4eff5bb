package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPackF32: a packed Store reads and writes its elements in the
// row-major order of the matrix it was packed from (Get, GetRows, Set), and
// MatMulTransB on it is the packed product, within float32 error of a
// float64 reference and the same for a row alone as in the batch.
func TestPackF32(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n, k := 21, 13 // one full panel and a partial one
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	s := PackF32(w, n, k)
	if !s.Packed() || s.Len() != n*k || s.F32() != nil || s.DType() != F32 {
		t.Fatalf("packed store: Packed %v Len %d F32 %v DType %v", s.Packed(), s.Len(), s.F32() != nil, s.DType())
	}
	got := make([]float32, n*k)
	s.Get(0, got)
	if !slices.Equal(got, w) {
		t.Fatal("Get does not give back the row-major matrix")
	}
	rows := make([]float32, 3*4)
	s.GetRows(2*k+5, k, 3, 4, rows) // rows 2…4, columns 5…8
	for i := 0; i < 3; i++ {
		if !slices.Equal(rows[i*4:(i+1)*4], w[(2+i)*k+5:(2+i)*k+9]) {
			t.Fatalf("GetRows row %d: %v", i, rows[i*4:(i+1)*4])
		}
	}
	s.Set(17*k+12, []float32{42})
	w[17*k+12] = 42
	s.Get(0, got)
	if !slices.Equal(got, w) {
		t.Fatal("Set did not write the element of row 17, column 12")
	}

	m := 9
	a := make([]float32, m*k)
	for i := range a {
		a[i] = float32(r.NormFloat64())
	}
	c := make([]float32, m*n)
	MatMulTransB(nil, c, a, s, nil, m, n, k)
	row := make([]float32, n)
	for i := 0; i < m; i++ {
		MatMulTransB(nil, row, a[i*k:(i+1)*k], s, nil, 1, n, k)
		for j := 0; j < n; j++ {
			var want, abs float64
			for p := 0; p < k; p++ {
				want += float64(a[i*k+p]) * float64(w[j*k+p])
				abs += math.Abs(float64(a[i*k+p]) * float64(w[j*k+p]))
			}
			if math.Float32bits(row[j]) != math.Float32bits(c[i*n+j]) {
				t.Fatalf("c[%d,%d]: %v alone, %v in the batch", i, j, row[j], c[i*n+j])
			}
			if err := math.Abs(float64(c[i*n+j]) - want); err > float64(k+1)*0x1p-24*abs {
				t.Fatalf("c[%d,%d] = %v, float64 %v", i, j, c[i*n+j], want)
			}
		}
	}
}

// TestPackF32Misuse: using packed weights with another shape, or slicing
// them, is a programmer error and panics with a named message.
func TestPackF32Misuse(t *testing.T) {
	s := PackF32(make([]float32, 6), 2, 3)
	for name, f := range map[string]func(){
		"tensor.MatMulTransB": func() { MatMulTransB(nil, make([]float32, 3), make([]float32, 2), s, nil, 1, 3, 2) },
		"tensor.Store.Slice":  func() { s.Slice(0, 3) },
		"kernels.Panels":      func() { s.Get(5, make([]float32, 2)) },
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(strings.ToLower(toString(p)), strings.ToLower(name)) {
					t.Errorf("%s: panic %v", name, p)
				}
			}()
			f()
		}()
	}
}

func toString(p any) string {
	if s, ok := p.(string); ok {
		return s
	}
	if e, ok := p.(error); ok {
		return e.Error()
	}
	return ""
}
