package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/headlight/headlight/internal/testutil"
)

// TestWidenSlicesExhaustive widens all 65536 half values on every path, at
// every start offset mod 8 and with lengths that leave every tail, and
// compares each with the scalar conversions (tested against float64
// references in half_test.go) bit for bit: float16 subnormals, infinities
// and NaN payloads (signalling ones included: F16C's VCVTPH2PS quiets them,
// the kernel must undo that), bfloat16 likewise.
func TestWidenSlicesExhaustive(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		all := make([]uint16, 1<<16+16)
		for i := range all {
			all[i] = uint16(i)
		}
		for _, h := range []Half{F16, BF16} {
			scalar := F16ToF32
			if h == BF16 {
				scalar = BF16ToF32
			}
			for off := 0; off < 8; off++ {
				for _, n := range []int{1 << 16, 1<<16 - 1, 1<<16 - 7, 1<<16 - 9} {
					src := all[off : off+n]
					dst, check := guarded(n, off)
					h.Widen(dst, src)
					for i, v := range src {
						if math.Float32bits(dst[i]) != math.Float32bits(scalar(v)) {
							t.Fatalf("%v off=%d n=%d: widen(%#04x) = %#08x, scalar %#08x", h, off, n, v,
								math.Float32bits(dst[i]), math.Float32bits(scalar(v)))
						}
					}
					if err := check(); err != nil {
						t.Fatalf("%v off=%d n=%d: %v", h, off, n, err)
					}
				}
			}
			for n := 0; n <= 40; n++ { // short slices: all tail, one group, …
				src := all[0x7bf8 : 0x7bf8+n] // around the float16 infinity and NaNs
				dst, check := guarded(n, 3)
				h.Widen(dst, src)
				for i, v := range src {
					if math.Float32bits(dst[i]) != math.Float32bits(scalar(v)) {
						t.Fatalf("%v n=%d: widen(%#04x) = %#08x, scalar %#08x", h, n, v, math.Float32bits(dst[i]), math.Float32bits(scalar(v)))
					}
				}
				if err := check(); err != nil {
					t.Fatalf("%v n=%d: %v", h, n, err)
				}
			}
		}
	})
}

// halfWeights returns n·k random weights of scale 1 rounded to h, their
// exact widening (by the scalar conversion), and specials sprinkled in
// when special is set: ±0, ±Inf, NaNs (signalling too), subnormals.
func halfWeights(r *rand.Rand, h Half, n int, special bool) ([]uint16, []float32) {
	b := make([]uint16, n)
	w := make([]float32, n)
	specials := map[Half][]uint16{
		F16:  {0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e01, 0x7d23, 0xfd00, 0x0001, 0x83ff, 0x0400, 0x7bff},
		BF16: {0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc1, 0x7fa3, 0xff81, 0x0001, 0x807f, 0x0080, 0x7f7f},
	}[h]
	for i := range b {
		f := float32(r.NormFloat64())
		if h == BF16 {
			b[i] = F32ToBF16(f)
			w[i] = BF16ToF32(b[i])
		} else {
			b[i] = F32ToF16(f)
			w[i] = F16ToF32(b[i])
		}
		if special && r.IntN(16) == 0 {
			b[i] = specials[r.IntN(len(specials))]
			if h == BF16 {
				w[i] = BF16ToF32(b[i])
			} else {
				w[i] = F16ToF32(b[i])
			}
		}
	}
	return b, w
}

// TestMatMulTransBHalf checks MatMulTransBHalf bit for bit against the
// documented order of the path (mmSeq32 for the twins, mmLanesAVX2 for
// AVX2, both written out independently) applied to the exactly widened
// weights, and against MatMulTransB on them (also with non-finite weights:
// NaN payloads included), on odd sizes, unaligned slices,
// with a guarded c, with and without bias, on one thread and on a pool.
func TestMatMulTransBHalf(t *testing.T) {
	pool := NewPool(3).WithSerialWork(0)
	defer pool.Close()
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 16))
		want := mmSeq32
		if impl.simd() {
			want = mmLanesAVX2
		}
		for _, h := range []Half{F16, BF16} {
			for _, m := range []int{1, 2, 3, 5, 33} {
				for _, n := range []int{1, 7, 8, 9, 17, 25, 97, 200} {
					for _, k := range []int{1, 3, 8, 13, 16, 31, 64, 257} {
						if m*n*k > 1<<20 {
							continue
						}
						special := (m+n+k)%3 == 0
						b16, w := halfWeights(r, h, n*k+1, special)
						b16, w = b16[1:], w[1:] // unaligned
						a := randSlice(r, m*k+1)[1:]
						var bias []float32
						if n%2 == 1 {
							bias = randSlice(r, n)
						}
						tag := fmt.Sprintf("%v m=%d n=%d k=%d special=%v bias=%v", h, m, n, k, special, bias != nil)
						var ref []float32 // the reference's exact FMAs take finite values only
						if !special {
							ref = want(a, w, bias, m, n, k)
						}
						mm := make([]float32, m*n)
						MatMulTransB(nil, mm, a, w, bias, m, n, k)
						for _, p := range []*Pool{nil, pool} {
							c, check := guarded(m*n, 1)
							MatMulTransBHalf(p, c, a, b16, h, bias, m, n, k)
							if i := sameBits(ref, c); ref != nil && i >= 0 {
								t.Fatalf("%s pool=%v: c[%d] = %v (%#08x), documented order %v (%#08x)", tag, p != nil, i, c[i], math.Float32bits(c[i]), ref[i], math.Float32bits(ref[i]))
							}
							if i := sameBits(c, mm); i >= 0 {
								t.Fatalf("%s pool=%v: c[%d] = %v, MatMulTransB on the widened weights %v", tag, p != nil, i, c[i], mm[i])
							}
							if err := check(); err != nil {
								t.Fatalf("%s: %v", tag, err)
							}
						}
					}
				}
			}
		}
	})
}

func TestMatMulTransBHalfEdges(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		// k = 0: c = bias (or 0).
		c := []float32{7, 7, 7}
		MatMulTransBHalf(nil, c, nil, nil, BF16, []float32{1, 2, 3}, 1, 3, 0)
		if c[0] != 1 || c[1] != 2 || c[2] != 3 {
			t.Errorf("k=0: c = %v, want the bias", c)
		}
		MatMulTransBHalf(nil, c, nil, nil, F16, nil, 1, 3, 0)
		if c[0] != 0 || c[1] != 0 || c[2] != 0 {
			t.Errorf("k=0: c = %v, want zeros", c)
		}
		MatMulTransBHalf(nil, nil, nil, make([]uint16, 15), F16, nil, 0, 5, 3) // m = 0: nothing
		mustPanic(t, "short b", func() {
			MatMulTransBHalf(nil, make([]float32, 2), make([]float32, 4), make([]uint16, 7), BF16, nil, 1, 2, 4)
		})
		mustPanic(t, "short c", func() {
			MatMulTransBHalf(nil, make([]float32, 1), make([]float32, 4), make([]uint16, 8), BF16, nil, 1, 2, 4)
		})
		mustPanic(t, "short bias", func() {
			MatMulTransBHalf(nil, make([]float32, 2), make([]float32, 4), make([]uint16, 8), BF16, []float32{1}, 1, 2, 4)
		})
	})
}

// TestMatMulTransBHalfAllocs: the decoding product allocates nothing in
// steady state (the widening scratch comes from a pool).
func TestMatMulTransBHalfAllocs(t *testing.T) {
	if testutil.Race {
		t.Skip("the race detector's sync.Pool drops items at random: allocation counts mean nothing")
	}
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		for _, m := range []int{1, 3} {
			b, _ := halfWeights(r, BF16, 30*40, false)
			a, c := randSlice(r, m*40), make([]float32, m*30)
			MatMulTransBHalf(nil, c, a, b, BF16, nil, m, 30, 40)
			if n := testing.AllocsPerRun(20, func() { MatMulTransBHalf(nil, c, a, b, BF16, nil, m, 30, 40) }); n > 0 {
				t.Errorf("m=%d: %v allocations per call", m, n)
			}
		}
	})
}

// BenchmarkMatVecHalf is BenchmarkMatVec with b in bfloat16 or float16
// (hot: one b, in cache; cold: copies of b totalling over 64 MiB); GB/s
// counts the 2·n·k bytes of b streamed per call.
func BenchmarkMatVecHalf(b *testing.B) {
	for _, s := range []struct {
		m, n, k int
		cold    bool
	}{{1, 768, 768, false}, {1, 768, 768, true}, {1, 2048, 768, true}, {1, 768, 2048, true}, {4, 768, 768, true}} {
		for _, h := range []Half{BF16, F16} {
			temp := map[bool]string{false: "hot", true: "cold"}[s.cold]
			b.Run(fmt.Sprintf("%v/%dx%dx%d/%s", h, s.m, s.n, s.k, temp), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				copies := 1
				if s.cold {
					copies = (64<<20)/(2*s.n*s.k) + 1
				}
				ws := make([][]uint16, copies)
				for i := range ws {
					ws[i], _ = halfWeights(r, h, s.n*s.k, false)
				}
				a, c := randSlice(r, s.m*s.k), make([]float32, s.m*s.n)
				i := 0
				for b.Loop() {
					MatMulTransBHalf(nil, c, a, ws[i], h, nil, s.m, s.n, s.k)
					if i++; i == copies {
						i = 0
					}
				}
				sec := b.Elapsed().Seconds()
				b.ReportMetric(2*float64(s.n)*float64(s.k)*float64(b.N)/sec/1e9, "GB/s")
			})
		}
	}
}
