package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowsWide: DotRows and AxpyRows on rows of 16 values or more give, on
// every path, the bits of one Dot or Axpy call per row (the AVX-512 path
// runs a head's rows in one call, dotRowsAVX512 and axpyRowsAVX512): widths
// around their limits (multiples of 32 / of 16 up to 256), strided and
// unaligned rows, weights 0, −0, NaN and ±Inf, guard values after the rows.
func TestRowsWide(t *testing.T) { forEachImpl(t, testRowsWide) }

func testRowsWide(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, d := range []int{16, 32, 48, 64, 96, 128, 256, 272} {
		for _, n := range []int{0, 1, 5, 33} {
			for _, stride := range []int{d, d + 3, 3 * d} {
				tag := fmt.Sprintf("d=%d rows=%d stride=%d", d, n, stride)
				off := 1 + r.IntN(5)
				a := randSlice(r, off+max(0, (n-1)*stride+d))
				x := randSlice(r, d)
				const scale = float32(0.125)
				dst := make([]float32, n+1)
				dst[n] = 12345
				DotRows(dst[:n], scale, x, a, off, stride)
				if dst[n] != 12345 {
					t.Fatalf("%s: DotRows wrote past dst", tag)
				}
				for j := 0; j < n; j++ {
					o := off + j*stride
					if want := scale * Dot(x, a[o:o+d]); math.Float32bits(dst[j]) != math.Float32bits(want) {
						t.Fatalf("%s: DotRows row %d = %v, Dot gives %v", tag, j, dst[j], want)
					}
				}
				w := randSlice(r, n)
				special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
				for j := range w {
					if r.IntN(4) == 0 {
						w[j] = special[r.IntN(len(special))]
					}
				}
				y0 := randSlice(r, d+1)
				y0[d] = 6789
				y := append([]float32(nil), y0...)
				AxpyRows(y[:d], w, a, off, stride)
				want := append([]float32(nil), y0[:d]...)
				for j, e := range w {
					if e != 0 {
						o := off + j*stride
						Axpy(e, a[o:o+d], want)
					}
				}
				if y[d] != 6789 {
					t.Fatalf("%s: AxpyRows wrote past y", tag)
				}
				for i := range want {
					if !sameOrBothNaN(y[i], want[i]) {
						t.Fatalf("%s: AxpyRows y[%d] = %v, Axpy per row gives %v", tag, i, y[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkRowsWide: one decoding step's attention rows for a 64-wide head
// over 1,024 keys with the stride of 12 heads (3 KiB).
func BenchmarkRowsWide(b *testing.B) {
	const d, n, stride = 64, 1024, 768
	r := rand.New(rand.NewPCG(1, 2))
	a, x, w := randSlice(r, n*stride), randSlice(r, d), randSlice(r, n)
	dst, y := make([]float32, n), make([]float32, d)
	saved := impl
	defer func() { impl = saved }()
	for _, k := range implsAvailable()[1:] {
		impl = k
		b.Run("dot/"+k.String(), func(b *testing.B) {
			for b.Loop() {
				DotRows(dst, 0.125, x, a, 0, stride)
			}
		})
		b.Run("axpy/"+k.String(), func(b *testing.B) {
			for b.Loop() {
				AxpyRows(y, w, a, 0, stride)
			}
		})
	}
}
