package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// panelsFMA is the documented order of MatMulPanels' AVX2 path: one
// accumulator per element, one FMA per product for p increasing, the bias
// added last.
func panelsFMA(a, b, bias []float32, m, n, k int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s = fma32(a[i*k+p], b[j*k+p], s)
			}
			if bias != nil {
				s += bias[j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// TestMatMulPanels: every shape edge (m around the 6/4/2/1 tile heights, the
// AVX-512 12/8/4/2/1 heights and the row-by-row limit, n around the panel
// width and the AVX-512 panel pairs, k odd), with and without
// bias, on every path: the bits of the documented order (FMA on AVX2, the
// reference loop on the twin), within the float32 error bound of a float64
// product, and no element left unwritten.
func TestMatMulPanels(t *testing.T) { forEachImpl(t, testMatMulPanels) }

func testMatMulPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ms, ns := []int{1, 2, 3, 4, 5, 6, 7, 13, 23, 30, 75}, []int{1, 15, 16, 17, 33, 48, 130}
	if testing.Short() { // the race run: fewer shapes, every kernel still reached
		ms, ns = []int{1, 4, 23, 75}, []int{15, 48, 130}
	}
	for _, m := range ms {
		for _, n := range ns {
			for _, k := range []int{1, 7, 64, 65} {
				a := randSlice(r, m*k+1)[1:] // 4 bytes past the start of an allocation
				b := randSlice(r, n*k)
				var bias []float32
				if (m+n+k)%2 == 0 {
					bias = randSlice(r, n)
				}
				w := PackPanels(b, n, k)
				c := make([]float32, m*n)
				for i := range c {
					c[i] = 1e30
				}
				MatMulPanels(nil, c, a, w, bias, m)
				tag := fmt.Sprintf("m=%d n=%d k=%d bias=%v", m, n, k, bias != nil)
				want := mmSeq32(a, b, bias, m, n, k)
				if impl.simd() {
					want = panelsFMA(a, b, bias, m, n, k)
				}
				if i := sameBits(c, want); i >= 0 {
					t.Fatalf("%s: c[%d] = %v, the documented order gives %v", tag, i, c[i], want[i])
				}
				mmCheck(t, tag, c, a, b, bias, m, n, k)
			}
		}
	}
}

// TestMatMulPanelsInvariance: a row's bits do not depend on the other rows
// (alone, m = 1, through the matrix–vector kernels; in a batch of 41,
// through the tiles), nor on the pool, nor on the thread count.
func TestMatMulPanelsInvariance(t *testing.T) { forEachImpl(t, testMatMulPanelsInvariance) }

func testMatMulPanelsInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pool := NewPool(3).WithSerialWork(0)
	defer pool.Close()
	for _, s := range []struct{ m, n, k int }{{41, 150, 96}, {200, 1000, 33}, {4, 40, 300}} {
		a, b, bias := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k), randSlice(r, s.n)
		w := PackPanels(b, s.n, s.k)
		full := make([]float32, s.m*s.n)
		MatMulPanels(nil, full, a, w, bias, s.m)
		pooled := make([]float32, s.m*s.n)
		MatMulPanels(pool, pooled, a, w, bias, s.m)
		if i := sameBits(pooled, full); i >= 0 {
			t.Fatalf("%v: c[%d] %v on the pool, %v without", s, i, pooled[i], full[i])
		}
		row := make([]float32, s.n)
		for i := 0; i < s.m; i++ {
			MatMulPanels(pool, row, a[i*s.k:(i+1)*s.k], w, bias, 1)
			if j := sameBits(row, full[i*s.n:(i+1)*s.n]); j >= 0 {
				t.Fatalf("%v: row %d alone gives c[%d] = %v, in the batch %v", s, i, j, row[j], full[i*s.n+j])
			}
		}
	}
}

// TestMatMulPanelsBadSizes: programmer errors panic with the kernel's name.
func TestMatMulPanelsBadSizes(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), name) {
				t.Errorf("%s: panic %v", name, p)
			}
		}()
		f()
	}
	mustPanic("PackPanels", func() { PackPanels(make([]float32, 5), 2, 3) })
	mustPanic("PackPanels", func() { PackPanels(nil, -1, 3) })
	w := PackPanels(make([]float32, 6), 2, 3)
	mustPanic("MatMulPanels", func() { MatMulPanels(nil, make([]float32, 3), make([]float32, 6), w, nil, 2) })
	mustPanic("MatMulPanels", func() { MatMulPanels(nil, make([]float32, 4), make([]float32, 5), w, nil, 2) })
	mustPanic("MatMulPanels", func() { MatMulPanels(nil, make([]float32, 4), make([]float32, 6), w, make([]float32, 1), 2) })
}

// BenchmarkMatMulPanels reports GFLOP/s of MatMulPanels beside MatMulTransB
// on the same shapes (square, (m×768)·(768×768)ᵀ projections, one token) on
// one thread and on a GOMAXPROCS pool (threads=0); the packing is done once,
// outside the timing, as a model does at load.
func BenchmarkMatMulPanels(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048},
		{128, 768, 768}, {512, 768, 768}, {1, 768, 768}, {4, 768, 768},
	}
	for _, s := range shapes {
		r := rand.New(rand.NewPCG(1, 2))
		a, wb, bias := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k), randSlice(r, s.n)
		w := PackPanels(wb, s.n, s.k)
		c := make([]float32, s.m*s.n)
		for _, threads := range []int{1, 0} {
			for _, kind := range []string{"panels", "transb"} {
				b.Run(fmt.Sprintf("%dx%dx%d/threads=%d/%s", s.m, s.n, s.k, threads, kind), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					for b.Loop() {
						if kind == "panels" {
							MatMulPanels(p, c, a, w, bias, s.m)
						} else {
							MatMulTransB(p, c, a, wb, bias, s.m, s.n, s.k)
						}
					}
					flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
					b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestPanelsRepack: Pack reuses a Panels for another matrix, shorter or
// longer, on a pool or not; the elements and the product are those of the
// new matrix.
func TestPanelsRepack(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	w := new(Panels)
	pool := NewPool(2).WithSerialWork(0)
	defer pool.Close()
	for i, s := range []struct{ m, n, k int }{{5, 40, 9}, {5, 19, 9}, {3, 33, 30}, {7, 18, 4}} {
		a, b := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k)
		p := pool
		if i%2 == 1 {
			p = nil
		}
		w.Pack(p, b, s.n, s.k)
		c := make([]float32, s.m*s.n)
		MatMulPanels(nil, c, a, w, nil, s.m)
		mmCheck(t, fmt.Sprint(s), c, a, b, nil, s.m, s.n, s.k)
		for i := 0; i < s.n*s.k; i++ {
			if w.At(i) != b[i] {
				t.Fatalf("%v: element %d reads %v, want %v", s, i, w.At(i), b[i])
			}
		}
	}
}

// TestMatMulPanelsHalf: half-precision panels hold b rounded to nearest even
// (At), and their product has exactly the bits of the float32 panels of the
// rounded weights, for every m (row by row and tiled), on every path.
func TestMatMulPanelsHalf(t *testing.T) { forEachImpl(t, testMatMulPanelsHalf) }

func testMatMulPanelsHalf(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, h := range []Half{BF16, F16} {
		round := map[Half]func(float32) float32{
			BF16: func(v float32) float32 { return BF16ToF32(F32ToBF16(v)) },
			F16:  func(v float32) float32 { return F16ToF32(F32ToF16(v)) },
		}[h]
		for _, s := range []struct{ n, k int }{{1, 1}, {17, 9}, {40, 64}, {130, 33}} {
			b := randSlice(r, s.n*s.k)
			rb := make([]float32, len(b))
			for i, v := range b {
				rb[i] = round(v)
			}
			wh, w32 := PackPanelsHalf(b, h, s.n, s.k), PackPanels(rb, s.n, s.k)
			if got, ok := wh.Half(); !ok || got != h {
				t.Fatalf("%v: Half() = %v, %v", h, got, ok)
			}
			for i := range rb {
				if wh.At(i) != rb[i] {
					t.Fatalf("%v %v: element %d reads %v, rounded %v", h, s, i, wh.At(i), rb[i])
				}
			}
			for _, m := range []int{1, 2, 3, 7, 13} {
				a, bias := randSlice(r, m*s.k), randSlice(r, s.n)
				got, want := make([]float32, m*s.n), make([]float32, m*s.n)
				MatMulPanels(nil, got, a, wh, bias, m)
				MatMulPanels(nil, want, a, w32, bias, m)
				if i := sameBits(got, want); i >= 0 {
					t.Fatalf("%v %v m=%d: c[%d] = %v, float32 panels of the rounded weights %v", h, s, m, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkPanelsStream is decoding's share of MatMulPanels: one row
// through the weights of five layers of the 768-wide Llama (wq, wk, wv, wo,
// w1, w3, w2; 142 MB, past every cache) on 1 and 2 threads, in GB/s of
// weights streamed, beside read, the machine's read bandwidth (Dot over 128
// MiB split in 64 pool tasks) on as many threads.
func BenchmarkPanelsStream(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var ws []*Panels
	bytes := 0
	for range 5 {
		for _, s := range [][2]int{{768, 768}, {768, 768}, {768, 768}, {768, 768}, {2048, 768}, {2048, 768}, {768, 2048}} {
			ws = append(ws, PackPanels(randSlice(r, s[0]*s[1]), s[0], s[1]))
			bytes += 4 * s[0] * s[1]
		}
	}
	a, c := randSlice(r, 2048), make([]float32, 2048)
	src := randSlice(r, 32<<20)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("panels/threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			for b.Loop() {
				for _, w := range ws {
					MatMulPanels(p, c, a[:w.K], w, nil, 1)
				}
			}
			b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(fmt.Sprintf("read/threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads).WithSerialWork(0)
			defer p.Close()
			const chunks = 64
			cs := len(src) / chunks
			sums := make([]float32, chunks)
			for b.Loop() {
				p.Run(chunks, func(_, t int) { sums[t] = Dot(src[t*cs:t*cs+cs/2], src[t*cs+cs/2:(t+1)*cs]) })
			}
			b.ReportMetric(4*float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// TestGemvPrefetch: the prefetching matrix–vector kernels (Panels.prefetch,
// chosen at packing for weights of at least prefetchBytes) give the bits of
// the plain ones, for float32 and both half formats, every panel count.
func TestGemvPrefetch(t *testing.T) { forEachImpl(t, testGemvPrefetch) }

func testGemvPrefetch(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	if big := PackPanels(make([]float32, 512*512), 512, 512); !big.prefetch {
		t.Error("a 1 MiB float32 matrix does not prefetch")
	}
	if small := PackPanelsHalf(make([]float32, 64*172), BF16, 64, 172); small.prefetch {
		t.Error("stories260K's largest matrix prefetches")
	}
	for _, m := range []int{1, 2, 3} {
		for _, n := range []int{1, 15, 16, 33, 64, 130} {
			for _, k := range []int{1, 7, 65} {
				a, b := randSlice(r, m*k), randSlice(r, n*k)
				for _, w := range []*Panels{PackPanels(b, n, k), PackPanelsHalf(b, BF16, n, k), PackPanelsHalf(b, F16, n, k)} {
					var cs [2][]float32
					for i, pf := range []bool{false, true} {
						w.prefetch = pf
						cs[i] = make([]float32, m*n)
						MatMulPanels(nil, cs[i], a, w, nil, m)
					}
					if i := sameBits(cs[0], cs[1]); i >= 0 {
						h, _ := w.Half()
						t.Fatalf("m=%d n=%d k=%d half=%v: c[%d] = %v with prefetch, %v without", m, n, k, h, i, cs[1][i], cs[0][i])
					}
				}
			}
		}
	}
}
