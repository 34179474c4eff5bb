package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/headlight/headlight/internal/kernels"
)

// widenRef widens element i of s with the scalar conversions.
func widenRef(s Store, i int) float32 {
	switch s.DType() {
	case F16:
		return kernels.F16ToF32(s.u16[i])
	case BF16:
		return kernels.BF16ToF32(s.u16[i])
	}
	return s.F32()[i]
}

func TestGetRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, d := range []DType{F32, F16, BF16} {
		src := make([]float32, 997)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		src[5], src[40] = float32(math.Inf(-1)), float32(math.NaN())
		s := Convert(d, src)
		for _, c := range []struct{ off, stride, rows, width int }{
			{0, 8, 10, 8}, {3, 8, 10, 8}, {1, 24, 17, 16}, {7, 64, 15, 64}, {2, 13, 9, 5}, {0, 1, 1, 1}, {5, 9, 0, 9},
		} {
			dst := make([]float32, c.rows*c.width+3)
			for i := range dst {
				dst[i] = 42
			}
			s.GetRows(c.off, c.stride, c.rows, c.width, dst)
			for row := range c.rows {
				for j := range c.width {
					want := widenRef(s, c.off+row*c.stride+j)
					if got := dst[row*c.width+j]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%v %+v: row %d col %d = %v, want %v", d, c, row, j, got, want)
					}
				}
			}
			for _, g := range dst[c.rows*c.width:] {
				if g != 42 {
					t.Fatalf("%v %+v: wrote past the rows", d, c)
				}
			}
		}
		defer func() {
			if recover() == nil {
				t.Errorf("%v: GetRows past the end did not panic", d)
			}
		}()
		s.GetRows(990, 8, 2, 8, make([]float32, 16))
	}
}

// TestMatMulTransBStore: half weights give kernels.MatMulTransB's bits on
// the weights widened element by element; float32 weights are
// kernels.MatMulTransB itself.
func TestMatMulTransBStore(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, d := range []DType{F32, F16, BF16} {
		for _, m := range []int{1, 3} {
			n, k := 37, 29
			w32 := make([]float32, n*k)
			for i := range w32 {
				w32[i] = float32(r.NormFloat64())
			}
			w := Convert(d, w32)
			wide := make([]float32, n*k)
			for i := range wide {
				wide[i] = widenRef(w, i)
			}
			a, bias := make([]float32, m*k), make([]float32, n)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range bias {
				bias[i] = float32(r.NormFloat64())
			}
			got, want := make([]float32, m*n), make([]float32, m*n)
			MatMulTransB(nil, got, a, w, bias, m, n, k)
			kernels.MatMulTransB(nil, want, a, wide, bias, m, n, k)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v m=%d: c[%d] = %v, want %v", d, m, i, got[i], want[i])
				}
			}
		}
	}
}
