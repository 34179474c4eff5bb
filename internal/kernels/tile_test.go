package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulRows checks MatMulRows, MatMulAddRows and MatMulTAddRows against
// float64 sums on odd shapes (every remainder of rows), strided and unaligned
// slices, with guard values around c; on the AVX2 path the elements of whole
// 16-column tiles (of any height; the AVX-512 tiles of 12, 8, 4, 2 and 1
// rows, two slabs or one) must be the exact FMA chain.
func TestMatMulRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, sz := range [][3]int{{1, 1, 1}, {4, 16, 1}, {6, 16, 1}, {6, 16, 64}, {12, 32, 5}, {5, 17, 3}, {32, 64, 64}, {7, 33, 13}, {8, 48, 0}, {3, 5, 70}, {13, 64, 37}, {25, 48, 9}, {23, 80, 4}, {15, 96, 2}, {64, 64, 64}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, kind := range []mmKind{mmScale, mmAdd, mmAddT} {
				add := kind != mmScale
				lda, ldb, ldc := k+3, n+5, n+2
				a := make([]float32, 1+max(0, (m-1)*lda+k))[1:] // unaligned
				aAt := func(i, p int) float32 { return a[i*lda+p] }
				if kind == mmAddT { // a stored (k, m)
					lda = m + 3
					a = make([]float32, 1+max(0, (k-1)*lda+m))[1:]
					aAt = func(i, p int) float32 { return a[p*lda+i] }
				}
				b := make([]float32, 1+max(0, (k-1)*ldb+n))[1:]
				if k == 0 {
					b = b[:0]
				}
				const guard = 12345
				c := make([]float32, 1+m*ldc+1)
				for i := range c {
					c[i] = guard
				}
				cc := c[1 : 1+(m-1)*ldc+n]
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				for i := range b {
					b[i] = float32(rng.NormFloat64())
				}
				init := make([]float32, len(cc))
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						init[i*ldc+j] = float32(rng.NormFloat64())
						cc[i*ldc+j] = init[i*ldc+j]
					}
				}
				alpha := float32(0.37)
				switch kind {
				case mmAddT:
					MatMulTAddRows(cc, ldc, a, lda, b, ldb, m, n, k)
				case mmAdd:
					MatMulAddRows(cc, ldc, a, lda, b, ldb, m, n, k)
				default:
					MatMulRows(cc, ldc, a, lda, b, ldb, m, n, k, alpha)
				}
				if c[0] != guard || c[len(c)-1] != guard {
					t.Fatalf("%v kind=%d: guard overwritten", sz, kind)
				}
				for i := 0; i < m; i++ {
					for j := ldc * i; j < ldc*i+ldc && j < len(cc); j++ {
						if j-ldc*i >= n && cc[j] != guard {
							t.Fatalf("%v kind=%d: padding (%d,%d) overwritten", sz, kind, i, j-ldc*i)
						}
					}
					for j := 0; j < n; j++ {
						var s64, sabs float64
						var fma float32
						for p := 0; p < k; p++ {
							x, y := aAt(i, p), b[p*ldb+j]
							s64 += float64(x) * float64(y)
							sabs += math.Abs(float64(x) * float64(y))
							fma = fma32(x, y, fma)
						}
						want := alpha * float32(s64)
						exact := alpha * fma
						if add {
							want = init[i*ldc+j] + float32(s64)
							exact = init[i*ldc+j] + fma
						}
						got := cc[i*ldc+j]
						if d := math.Abs(float64(got - want)); d > 1e-5*(sabs+math.Abs(float64(init[i*ldc+j])))+1e-6 {
							t.Fatalf("%v kind=%d (%d,%d): got %v want %v", sz, kind, i, j, got, want)
						}
						if impl.simd() && j < n&^15 && got != exact {
							t.Fatalf("%v kind=%d (%d,%d): got %v, FMA chain gives %v", sz, kind, i, j, got, exact)
						}
					}
				}
			}
		}
	})
}

func TestMatMulRowsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on a short slice")
		}
	}()
	MatMulRows(make([]float32, 15), 4, make([]float32, 16), 4, make([]float32, 16), 4, 4, 4, 4, 1)
}

func TestTranspose(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, sz := range [][2]int{{1, 1}, {8, 8}, {64, 64}, {63, 64}, {17, 9}, {5, 24}, {40, 3}, {0, 5}} {
			rows, cols := sz[0], sz[1]
			lds, ldd := cols+3, rows+5
			src := make([]float32, 1+rows*lds)[1:]
			for i := range src {
				src[i] = float32(i) + 0.5
			}
			const guard = -7
			dst := make([]float32, 2+cols*ldd)
			for i := range dst {
				dst[i] = guard
			}
			d := dst[1 : 1+max(0, (cols-1)*ldd+rows)]
			Transpose(d, ldd, src, lds, rows, cols)
			for c := 0; c < cols; c++ {
				for r := 0; r < ldd && c*ldd+r < len(d); r++ {
					want := float32(guard)
					if r < rows {
						want = src[r*lds+c]
					}
					if got := d[c*ldd+r]; got != want {
						t.Fatalf("%v: dst[%d,%d] = %v, want %v", sz, c, r, got, want)
					}
				}
			}
			if dst[0] != guard || dst[len(dst)-1] != guard {
				t.Fatalf("%v: guard overwritten", sz)
			}
		}
	})
}

func TestMaxCount(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		ninf, nan := float32(math.Inf(-1)), float32(math.NaN())
		for n := 0; n < 70; n++ {
			for trial := 0; trial < 20; trial++ {
				x := make([]float32, n+1)[1:]
				for i := range x {
					switch rng.IntN(6) {
					case 0:
						x[i] = ninf
					case 1:
						if trial%2 == 0 {
							x[i] = nan
						}
					default:
						x[i] = float32(rng.NormFloat64())
					}
				}
				wm, wn := ninf, 0
				for _, v := range x {
					if v != ninf {
						wn++
						if v > wm {
							wm = v
						}
					}
				}
				gm, gn := MaxCount(x)
				if gm != wm || gn != wn {
					t.Fatalf("n=%d %v: got (%v, %d), want (%v, %d)", n, x, gm, gn, wm, wn)
				}
			}
		}
	})
}

func TestPrefetchRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		x := make([]float32, 1000)
		for _, c := range [][4]int{{0, 100, 10, 64}, {5, 100, 50, 64}, {990, 10, 3, 10}, {0, 0, 0, 0}, {995, 10, 1, 10}} {
			PrefetchRows(x, c[0], c[1], c[2], c[3]) // a hint: must not fault nor write
		}
		for _, v := range x {
			if v != 0 {
				t.Fatal("PrefetchRows wrote")
			}
		}
	})
}

func TestMatMulTAddRowsPanics(t *testing.T) {
	mustPanic(t, "MatMulTAddRows short a", func() {
		MatMulTAddRows(make([]float32, 16), 4, make([]float32, 15), 4, make([]float32, 16), 4, 4, 4, 4)
	})
}
