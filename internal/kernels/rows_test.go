package kernels

import (
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
