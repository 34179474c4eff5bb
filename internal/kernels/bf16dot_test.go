package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// dotBF16Ref is the documented VDPBF16PS chain of the dot mode, written with
// the exact fma32 (no DAZ/FTZ: the test data has no subnormals): for each
// pair, s = round(s + a[p+1]·w[p+1]), then s = round(s + a[p]·w[p]).
func dotBF16Ref(a, w []uint16) float32 {
	var s float32
	for p := 0; p < len(a); p += 2 {
		s = fma32(BF16ToF32(a[p+1]), BF16ToF32(w[p+1]), s)
		s = fma32(BF16ToF32(a[p]), BF16ToF32(w[p]), s)
	}
	return s
}

func TestF32SliceToBF16(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1 + 0x1p-8, 1 + 0x3p-8, 1 + 0x1p-9, // ties to even
			float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00001),
			math.Float32frombits(0x7f7fffff), 0x1p-149, -0x1p-130}
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{0, 1, 15, 16, 17, 33, 64, 100} {
			src := make([]float32, n+1)[1:] // unaligned
			for i := range src {
				if i < len(special) && n > 16 {
					src[i] = special[(i*7)%len(special)]
				} else {
					src[i] = math.Float32frombits(r.Uint32())
				}
			}
			dst := make([]uint16, n+2)
			dst[0], dst[n+1] = 0xdead, 0xbeef
			F32SliceToBF16(dst[1:n+1], src)
			if dst[0] != 0xdead || dst[n+1] != 0xbeef {
				t.Fatalf("n=%d: guard overwritten", n)
			}
			for i, x := range src {
				if got, want := dst[1+i], F32ToBF16(x); got != want {
					t.Fatalf("n=%d: %08x → %04x, want %04x", n, math.Float32bits(x), got, want)
				}
			}
		}
	})
}

// TestMatMulPanelsBF16Dot: on every path, products of more than
// panelGemvMaxM rows in the dot mode give the documented VDPBF16PS chain on
// a rounded to bfloat16 (bit for bit, against fma32), plus the bias; rows
// run one by one keep the exact float32 product of the widened weights; the
// shared product agrees with the single one.
func TestMatMulPanelsBF16Dot(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		ms, ns := []int{1, 3, 4, 13, 23, 30, 75}, []int{1, 15, 33, 48, 130}
		if testing.Short() { // the race run: fewer shapes, every tile height still reached
			ms, ns = []int{1, 23, 75}, []int{15, 130}
		}
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range []int{2, 66} {
					a := randSlice(r, m*k+1)[1:]
					b := randSlice(r, n*k)
					var bias []float32
					if (m+n)%2 == 1 {
						bias = randSlice(r, n)
					}
					w := PackPanelsHalf(b, BF16, n, k)
					if err := w.SetBF16Dot(true); err != nil {
						t.Fatal(err)
					}
					c := make([]float32, m*n+2)
					c[0], c[m*n+1] = 1e30, 1e30
					MatMulPanels(nil, c[1:m*n+1], a, w, bias, m)
					if c[0] != 1e30 || c[m*n+1] != 1e30 {
						t.Fatalf("m=%d n=%d k=%d: guard overwritten", m, n, k)
					}
					ab := make([]uint16, m*k)
					for i, x := range a[:m*k] {
						ab[i] = F32ToBF16(x)
					}
					wb := make([]uint16, n*k)
					wf := make([]float32, n*k)
					for i, x := range b {
						wb[i] = F32ToBF16(x)
						wf[i] = BF16ToF32(wb[i])
					}
					exact := mmSeq32(a, wf, bias, m, n, k)
					if impl.simd() {
						exact = panelsFMA(a, wf, bias, m, n, k)
					}
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							want := exact[i*n+j]
							if m > panelGemvMaxM {
								want = dotBF16Ref(ab[i*k:(i+1)*k], wb[j*k:(j+1)*k])
								if bias != nil {
									want += bias[j]
								}
							}
							if got := c[1+i*n+j]; math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("m=%d n=%d k=%d (%d,%d): got %v, want %v", m, n, k, i, j, got, want)
							}
						}
					}
					// shared with a float32 product of the same a
					w2 := PackPanels(b, n, k)
					c1, c2 := make([]float32, m*n), make([]float32, m*n)
					MatMulPanelsShared(nil, a, m, PanelsProduct{C: c1, W: w, Bias: bias}, PanelsProduct{C: c2, W: w2})
					if i := sameBits(c1, c[1:m*n+1]); i >= 0 {
						t.Fatalf("m=%d n=%d k=%d: shared dot product differs at %d", m, n, k, i)
					}
					want2 := make([]float32, m*n)
					MatMulPanels(nil, want2, a, w2, nil, m)
					if i := sameBits(c2, want2); i >= 0 {
						t.Fatalf("m=%d n=%d k=%d: shared float32 product differs at %d", m, n, k, i)
					}
				}
			}
		}
	})
}

func TestSetBF16DotErrors(t *testing.T) {
	b := make([]float32, 16*4)
	for _, tc := range []struct {
		w    *Panels
		want string
	}{
		{PackPanels(b, 16, 4), "needs bfloat16 panels"},
		{PackPanelsHalf(b, F16, 16, 4), "needs bfloat16 panels"},
		{PackPanelsHalf(b[:16*3], BF16, 16, 3), "even inner dimension"},
	} {
		err := tc.w.SetBF16Dot(true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetBF16Dot = %v, want an error with %q", err, tc.want)
		}
		if tc.w.BF16Dot() {
			t.Error("the mode is on after an error")
		}
		if err := tc.w.SetBF16Dot(false); err != nil {
			t.Errorf("SetBF16Dot(false) = %v", err)
		}
	}
}

// BenchmarkPanelsBF16Dot: a 512-token prefill through a 768×768 projection
// with bfloat16 weights, widened to float32 tiles or in the dot mode.
func BenchmarkPanelsBF16Dot(b *testing.B) {
	const m, n, k = 512, 768, 768
	r := rand.New(rand.NewPCG(1, 2))
	a, wt := randSlice(r, m*k), randSlice(r, n*k)
	c := make([]float32, m*n)
	pool := NewPool(0)
	defer pool.Close()
	for _, dot := range []bool{false, true} {
		w := PackPanelsHalf(wt, BF16, n, k)
		if err := w.SetBF16Dot(dot); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("dot=%v", dot), func(b *testing.B) {
			for b.Loop() {
				MatMulPanels(pool, c, a, w, nil, m)
			}
			b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
