package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var mmSizes = []int{1, 2, 3, 5, 17, 33, 64, 65, 130}

// mmRef checks c against a float64 triple loop with the error bound of a
// float32 sum of k products (see dotBound) plus the rounding of the bias add.
func mmCheck(t *testing.T, tag string, c, a, b, bias []float32, m, n, k int) {
	t.Helper()
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var want, abs float64
			for p := 0; p < k; p++ {
				pr := float64(a[i*k+p]) * float64(b[j*k+p])
				want += pr
				abs += math.Abs(pr)
			}
			if bias != nil {
				want += float64(bias[j])
				abs += math.Abs(float64(bias[j]))
			}
			got := float64(c[i*n+j])
			if err := math.Abs(got - want); err > dotBound(k+1, abs) {
				t.Fatalf("%s: c[%d,%d] = %v, float64 %v, |err| %g > %g", tag, i, j, got, want, err, dotBound(k+1, abs))
			}
		}
	}
}

// mmSeq32 is the documented float32 order: one accumulator, p increasing,
// bias added last.
func mmSeq32(a, b, bias []float32, m, n, k int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[j*k+p]
			}
			if bias != nil {
				s += bias[j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// mmLanesAVX2 is the documented per-element order of the AVX2 path.
func mmLanesAVX2(a, b, bias []float32, m, n, k int) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := gemmLanesAVX2(a[i*k:(i+1)*k], b[j*k:(j+1)*k])
			if bias != nil {
				s += bias[j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

func sameBits(x, y []float32) int {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}

func TestMatMulTransB(t *testing.T) { forEachImpl(t, testMatMulTransB) }

func testMatMulTransB(t *testing.T) {
	pools := []*Pool{nil, NewPool(1), NewPool(2).WithSerialWork(0), NewPool(3).WithSerialWork(0)}
	for _, p := range pools[1:] {
		defer p.Close()
	}
	r := rand.New(rand.NewPCG(5, 5))
	ks := mmSizes
	if testing.Short() {
		ks = []int{1, 3, 17, 65, 300}
	}
	for _, m := range mmSizes {
		for _, n := range mmSizes {
			for _, k := range ks {
				a, b := randSlice(r, m*k), randSlice(r, n*k)
				for _, withBias := range []bool{false, true} {
					var bias []float32
					if withBias {
						bias = randSlice(r, n)
					}
					var first []float32
					for pi, p := range pools {
						tag := fmt.Sprintf("m=%d n=%d k=%d bias=%v pool=%d", m, n, k, withBias, pi)
						c, check := guarded(m*n, 1+pi)
						MatMulTransB(p, c, a, b, bias, m, n, k)
						if err := check(); err != nil {
							t.Fatalf("%s: %v", tag, err)
						}
						if first == nil {
							first = append([]float32(nil), c...)
							mmCheck(t, tag, c, a, b, bias, m, n, k)
							if noFMA && impl == implGo {
								if i := sameBits(c, mmSeq32(a, b, bias, m, n, k)); i >= 0 {
									t.Fatalf("%s: c[%d] differs from the documented float32 order", tag, i)
								}
							}
							if impl.simd() && m*n*k <= 8000 {
								if i := sameBits(c, mmLanesAVX2(a, b, bias, m, n, k)); i >= 0 {
									t.Fatalf("%s: c[%d] differs from the documented AVX2 order", tag, i)
								}
							}
						} else if i := sameBits(c, first); i >= 0 {
							t.Fatalf("%s: c[%d] = %v, with pool 0 %v: result depends on the pool", tag, i, c[i], first[i])
						}
					}
				}
			}
		}
	}
}

// An element's value must not depend on where it lies in c: computing one row
// block or one column block alone gives the same bits.
func TestMatMulTransBInvariance(t *testing.T) { forEachImpl(t, testMatMulTransBInvariance) }

func testMatMulTransBInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	const m, n, k = 37, 101, 530 // not multiples of any block size
	a, b, bias := randSlice(r, m*k), randSlice(r, n*k), randSlice(r, n)
	full := make([]float32, m*n)
	MatMulTransB(NewPool(2), full, a, b, bias, m, n, k)
	for i := 0; i < m; i += 7 {
		row := make([]float32, n)
		MatMulTransB(nil, row, a[i*k:(i+1)*k], b, bias, 1, n, k)
		if j := sameBits(row, full[i*n:(i+1)*n]); j >= 0 {
			t.Fatalf("row %d alone: c[%d] = %v, in the full product %v", i, j, row[j], full[i*n+j])
		}
	}
	for j0 := 0; j0 < n; j0 += 13 {
		j1 := min(j0+5, n)
		cols := make([]float32, m*(j1-j0))
		MatMulTransB(nil, cols, a, b[j0*k:j1*k], bias[j0:j1], m, j1-j0, k)
		for i := 0; i < m; i++ {
			for j := j0; j < j1; j++ {
				if got := cols[i*(j1-j0)+j-j0]; math.Float32bits(got) != math.Float32bits(full[i*n+j]) {
					t.Fatalf("columns %d:%d alone: c[%d,%d] = %v, in the full product %v", j0, j1, i, j, got, full[i*n+j])
				}
			}
		}
	}
}

func TestMatMulTransBEdges(t *testing.T) { forEachImpl(t, testMatMulTransBEdges) }

func testMatMulTransBEdges(t *testing.T) {
	// k = 0: c is the bias (or zero); m or n = 0 writes nothing.
	c := []float32{7, 7, 7, 7, 7, 7}
	MatMulTransB(nil, c, nil, nil, []float32{1, 2, 3}, 2, 3, 0)
	if want := []float32{1, 2, 3, 1, 2, 3}; sameBits(c, want) >= 0 {
		t.Errorf("k=0 with bias: c = %v, want %v", c, want)
	}
	MatMulTransB(nil, c, nil, nil, nil, 2, 3, 0)
	for _, v := range c {
		if v != 0 || math.Signbit(float64(v)) {
			t.Errorf("k=0 without bias: c = %v, want zeros", c)
		}
	}
	c = []float32{7}
	MatMulTransB(nil, c, nil, []float32{1, 2}, nil, 0, 1, 2)
	MatMulTransB(nil, c, []float32{1, 2}, nil, nil, 1, 0, 2)
	if c[0] != 7 {
		t.Errorf("empty product wrote c")
	}
	// Longer slices than needed are fine; only c[:m*n] is written.
	a, b := []float32{1, 2, 99}, []float32{3, 4, 5, 6, 99}
	c = []float32{0, 0, 42}
	MatMulTransB(nil, c, a, b, []float32{0.5, 0.25, 99}, 1, 2, 2)
	if want := []float32{11.5, 17.25, 42}; sameBits(c, want) >= 0 {
		t.Errorf("c = %v, want %v", c, want)
	}
	// Non-finite values propagate as in the reference loop.
	inf := float32(math.Inf(1))
	c = make([]float32, 2)
	MatMulTransB(nil, c, []float32{inf, 1}, []float32{1, 0, 0, 1}, nil, 1, 2, 2)
	if !math.IsInf(float64(c[0]), 1) || c[1] == c[1] {
		t.Errorf("Inf input: c = %v, want [+Inf NaN]", c)
	}
}

func TestMatMulTransBBadSizes(t *testing.T) { forEachImpl(t, testMatMulTransBBadSizes) }

func testMatMulTransBBadSizes(t *testing.T) {
	f := make([]float32, 100)
	cases := []struct {
		name       string
		c, a, b, z []float32
		m, n, k    int
	}{
		{"short a", f, f[:5], f, nil, 2, 3, 3},
		{"short b", f, f, f[:8], nil, 2, 3, 3},
		{"short c", f[:5], f, f, nil, 2, 3, 3},
		{"short bias", f, f, f, f[:2], 2, 3, 3},
		{"negative m", f, f, f, nil, -1, 3, 3},
		{"negative n", f, f, f, nil, 2, -3, 3},
		{"negative k", f, f, f, nil, 2, 3, -3},
		{"m*k overflows", f, f, f, nil, 1 << 62, 1, 1 << 3},
		{"m*n overflows", f, f, f, nil, 1 << 33, 1 << 33, 0},
	}
	for _, tc := range cases {
		mustPanic(t, tc.name, func() { MatMulTransB(nil, tc.c, tc.a, tc.b, tc.z, tc.m, tc.n, tc.k) })
	}
}

func FuzzMatMul(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), uint64(1), true)
	f.Add(uint8(3), uint8(5), uint8(7), uint8(2), uint64(2), false)
	f.Add(uint8(33), uint8(97), uint8(255), uint8(3), uint64(3), true)
	f.Add(uint8(2), uint8(0), uint8(9), uint8(1), uint64(4), true)
	pools := []*Pool{nil, NewPool(1), NewPool(2).WithSerialWork(0), NewPool(3).WithSerialWork(0)}
	f.Fuzz(func(t *testing.T, m8, n8, k8, poolIdx uint8, seed uint64, withBias bool) {
		m, n, k := int(m8%70), int(n8%140), int(k8)+int(k8)/2
		r := rand.New(rand.NewPCG(seed, 7))
		a, b := randSlice(r, m*k), randSlice(r, n*k)
		var bias []float32
		if withBias {
			bias = randSlice(r, n)
		}
		saved := impl
		defer func() { impl = saved }()
		for _, im := range implsAvailable() {
			impl = im
			c, check := guarded(m*n, int(seed%4))
			MatMulTransB(pools[poolIdx%4], c, a, b, bias, m, n, k)
			if err := check(); err != nil {
				t.Fatal(err)
			}
			mmCheck(t, fmt.Sprintf("%v m=%d n=%d k=%d", im, m, n, k), c, a, b, bias, m, n, k)
			c1 := make([]float32, m*n)
			MatMulTransB(nil, c1, a, b, bias, m, n, k)
			if i := sameBits(c, c1); i >= 0 {
				t.Fatalf("%v m=%d n=%d k=%d: c[%d] depends on the pool", im, m, n, k, i)
			}
		}
	})
}

// BenchmarkMatMulTransB reports GFLOP/s (2·m·n·k per call) for square and
// projection shapes, on one thread and on a GOMAXPROCS pool (threads=0).
func BenchmarkMatMulTransB(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{256, 256, 256}, {512, 512, 512}, // square
		{128, 768, 768}, {512, 768, 768}, // (m×768)·(768×768)ᵀ projections
		{1, 768, 768}, // one token
	}
	for _, s := range shapes {
		for _, threads := range []int{1, 0} {
			b.Run(fmt.Sprintf("%dx%dx%d/threads=%d", s.m, s.n, s.k, threads), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				a, w, bias := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k), randSlice(r, s.n)
				c := make([]float32, s.m*s.n)
				p := NewPool(threads)
				defer p.Close()
				for b.Loop() {
					MatMulTransB(p, c, a, w, bias, s.m, s.n, s.k)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
