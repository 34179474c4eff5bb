package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRows checks DotRows and AxpyRows on every path against float64 loops,
// for widths on both sides of the vector threshold, strided and offset rows,
// with guard values around the outputs.
func TestRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(4, 5))
		for _, d := range []int{1, 3, 7, 8, 15, 16, 17, 64, 65} {
			for _, n := range []int{0, 1, 5, 64} {
				stride, off := d+3, 2
				a := make([]float32, off+n*stride+d)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				x := make([]float32, d)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				const guard = 12345
				buf := make([]float32, n+2)
				buf[0], buf[n+1] = guard, guard
				DotRows(buf[1:n+1], 0.5, x, a, off, stride)
				if buf[0] != guard || buf[n+1] != guard {
					t.Fatalf("d=%d n=%d: DotRows wrote outside dst", d, n)
				}
				for j := 0; j < n; j++ {
					var want, mag float64
					for i := range d {
						p := float64(x[i]) * float64(a[off+j*stride+i])
						want += p
						mag += math.Abs(p)
					}
					want *= 0.5
					if err := math.Abs(float64(buf[1+j]) - want); err > float64(d+2)*1e-7*mag+1e-30 {
						t.Fatalf("d=%d n=%d row %d: DotRows %v, want %v", d, n, j, buf[1+j], want)
					}
				}
				w := make([]float32, n)
				for j := range w {
					if j%3 != 1 {
						w[j] = float32(rng.NormFloat64())
					}
				}
				y := make([]float32, d+2)
				y[0], y[d+1] = guard, guard
				want := make([]float64, d)
				for i := range d {
					y[1+i] = float32(i)
					want[i] = float64(i)
				}
				if n > 1 {
					a[off+1*stride] = float32(math.Inf(1)) // row 1 has weight 0: must be skipped
				}
				AxpyRows(y[1:d+1], w, a, off, stride)
				if y[0] != guard || y[d+1] != guard {
					t.Fatalf("d=%d n=%d: AxpyRows wrote outside y", d, n)
				}
				for i := range d {
					var mag float64
					for j, e := range w {
						if e != 0 {
							want[i] += float64(e) * float64(a[off+j*stride+i])
							mag += math.Abs(float64(e) * float64(a[off+j*stride+i]))
						}
					}
					if err := math.Abs(float64(y[1+i]) - want[i]); math.IsNaN(err) || err > float64(n+2)*1e-7*(mag+float64(i)) {
						t.Fatalf("d=%d n=%d: AxpyRows[%d] = %v, want %v", d, n, i, y[1+i], want[i])
					}
				}
			}
		}
	})
}

// fma32nf is fma32 that also takes non-finite operands (IEEE: exact).
func fma32nf(a, b, c float32) float32 {
	if p := float64(a) * float64(b); math.IsInf(p, 0) || math.IsNaN(p) || math.IsInf(float64(c), 0) || math.IsNaN(float64(c)) {
		return float32(p + float64(c))
	}
	return fma32(a, b, c)
}

// dotRows8Lanes is the documented order of dotRows8AVX2 for one row r,
// written out with exact FMAs.
func dotRows8Lanes(scale float32, x, r []float32) float32 {
	var h [4]float32
	for i := range h {
		h[i] = fma32nf(x[i+4], r[i+4], x[i]*r[i])
	}
	return scale * ((h[0] + h[2]) + (h[1] + h[3]))
}

// sameOrBothNaN reports whether x and y have the same bits or are both NaN.
func sameOrBothNaN(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y
}

// rows8Input returns n rows of 8 normals, stride apart from offset off, in a
// slice whose other elements (the gaps between rows, before and after) are
// NaN, so a kernel reading outside the rows gives NaN. Rows j%11 == 3 hold
// an Inf and rows j%13 == 5 a NaN.
func rows8Input(r *rand.Rand, n, off, stride int) []float32 {
	a := make([]float32, off+n*stride+3)
	for i := range a {
		a[i] = float32(math.NaN())
	}
	for j := range n {
		row := a[off+j*stride : off+j*stride+8]
		for i := range row {
			row[i] = float32(r.NormFloat64())
		}
		switch {
		case j%11 == 3:
			row[j%8] = float32(math.Inf(1 - 2*(j%2)))
		case j%13 == 5:
			row[(j+3)%8] = float32(math.NaN())
		}
	}
	return a
}

// TestRows8 checks the head-dim-8 row kernels on every path for 0…67 rows,
// strides ≥ 8, unaligned starts, guard values around dst and y, NaN around
// the rows, Inf/NaN in rows and ±0/Inf/NaN weights: the AVX2 path bit for bit
// against its documented order (exact FMAs), every path against float64
// sums, and the AVX2 path against the twin within the FMA difference.
func TestRows8(t *testing.T) {
	type result struct{ dot, y []float32 }
	var twin map[[3]int]result // from the first path (the twin), per case
	forEachImpl(t, func(t *testing.T) {
		isTwin := twin == nil
		if isTwin {
			twin = map[[3]int]result{}
		}
		rng := rand.New(rand.NewPCG(8, 8))
		for n := 0; n <= 67; n++ {
			for _, stride := range []int{8, 9, 13, 24} {
				off := 1 + (n+stride)%5
				tag := fmt.Sprintf("n=%d stride=%d off=%d", n, stride, off)
				a := rows8Input(rng, n, off, stride)
				x := randSlice(rng, 8)
				scale := float32(0.35355339)

				dst, check := guarded(n, n%4)
				DotRows(dst, scale, x, a, off, stride)
				if err := check(); err != nil {
					t.Fatalf("%s: DotRows: %v", tag, err)
				}
				for j, got := range dst {
					row := a[off+j*stride : off+j*stride+8]
					var want, mag float64
					for i := range 8 {
						want += float64(x[i]) * float64(row[i])
						mag += math.Abs(float64(x[i]) * float64(row[i]))
					}
					want *= float64(scale)
					mag *= float64(scale)
					if math.IsNaN(want) || math.IsInf(want, 0) {
						if !sameOrBothNaN(got, float32(want)) {
							t.Fatalf("%s: DotRows row %d = %v, want %v", tag, j, got, want)
						}
					} else if err := math.Abs(float64(got) - want); err > 5*u32*mag*(1+1e-6) {
						t.Fatalf("%s: DotRows row %d = %v, float64 %v", tag, j, got, want)
					}
					if impl.simd() {
						if lanes := dotRows8Lanes(scale, x, row); !sameOrBothNaN(got, lanes) {
							t.Fatalf("%s: DotRows row %d = %v, documented AVX2 order %v", tag, j, got, lanes)
						}
						// Twin and AVX2 are each within 5u·Σ|scale·x·r| of the exact value.
						if tw := twin[[3]int{n, stride, off}].dot[j]; !sameOrBothNaN(got, tw) && math.Abs(float64(got-tw)) > 10*u32*mag*(1+1e-6) {
							t.Fatalf("%s: DotRows row %d = %v, twin %v", tag, j, got, tw)
						}
					}
				}

				w := randSlice(rng, n)
				for j := range w {
					row := a[off+j*stride : off+j*stride+8]
					switch {
					case j%4 == 1: // masked key on a non-finite row: skipped
						w[j] = 0
						row[j%8] = float32(math.Inf(1))
					case j%4 == 2 && n%3 == 0:
						w[j] = float32(math.Copysign(0, -1))
						row[(j+1)%8] = float32(math.NaN())
					}
				}
				if n%7 == 6 { // a non-finite weight is not skipped
					w[n/2] = float32(math.Inf(1))
					if n%2 == 0 {
						w[n/2] = float32(math.NaN())
					}
				}
				y, checkY := guarded(8, off%4)
				for i := range y {
					y[i] = float32(i) - 3.5
				}
				y[3] = float32(math.Copysign(0, -1)) // stays -0 when every weight is 0
				y0 := append([]float32(nil), y...)
				AxpyRows(y, w, a, off, stride)
				if err := checkY(); err != nil {
					t.Fatalf("%s: AxpyRows: %v", tag, err)
				}
				for i := range 8 {
					want, mag := float64(y0[i]), math.Abs(float64(y0[i]))
					negZero := float32(math.Copysign(0, -1))
					part := [4]float32{negZero, negZero, negZero, negZero} // the documented partial sums, row j in part[j%4]
					for j, e := range w {
						if e != 0 {
							v := a[off+j*stride+i]
							want += float64(e) * float64(v)
							mag += math.Abs(float64(e) * float64(v))
							part[j%4] = fma32nf(e, v, part[j%4])
						}
					}
					lanes := y0[i] + ((part[0] + part[1]) + (part[2] + part[3]))
					got := y[i]
					if math.IsNaN(want) || math.IsInf(want, 0) {
						if !sameOrBothNaN(got, float32(want)) {
							t.Fatalf("%s: AxpyRows y[%d] = %v, want %v", tag, i, got, want)
						}
					} else if err := math.Abs(float64(got) - want); err > float64(n+1)*u32*mag*(1+1e-6) {
						t.Fatalf("%s: AxpyRows y[%d] = %v, float64 %v", tag, i, got, want)
					}
					if i == 3 && want == 0 && mag == 0 && !math.Signbit(float64(got)) {
						t.Fatalf("%s: AxpyRows y[3] = %v, want -0 (no row added)", tag, got)
					}
					if impl.simd() {
						if !sameOrBothNaN(got, lanes) {
							t.Fatalf("%s: AxpyRows y[%d] = %v, documented AVX2 order %v", tag, i, got, lanes)
						}
						// Each path is within n·u·Σ|terms| (one rounding per row, and the products).
						if tw := twin[[3]int{n, stride, off}].y[i]; !sameOrBothNaN(got, tw) && math.Abs(float64(got-tw)) > float64(2*n+1)*u32*mag*(1+1e-6) {
							t.Fatalf("%s: AxpyRows y[%d] = %v, twin %v", tag, i, got, tw)
						}
					}
				}
				if isTwin {
					twin[[3]int{n, stride, off}] = result{append([]float32(nil), dst...), append([]float32(nil), y...)}
				}
			}
		}
	})
}
