package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// colCase is an (m, n) matrix with row stride n+3 in an unaligned slice,
// holding normal logits (below the column's shift, as under softmax's max)
// mixed with −Inf (masked keys), values so low that Exp flushes to 0 and,
// when specials, NaN, +Inf and values above the shift.
func colCase(rng *rand.Rand, m, n int, specials bool) (s []float32, lds int, shift []float32) {
	lds = n + 3
	s = make([]float32, 1+max(0, (m-1)*lds+n))[1:]
	shift = make([]float32, n)
	for j := range shift {
		shift[j] = float32(rng.NormFloat64() * 4)
	}
	ninf := float32(math.Inf(-1))
	for i := range m {
		for j := range n {
			x := shift[j] - float32(math.Abs(rng.NormFloat64()*10))
			switch rng.IntN(12) {
			case 0:
				x = ninf
			case 1:
				x = shift[j] - 95 // flushes to 0
			case 2:
				if specials {
					x = []float32{float32(math.NaN()), float32(math.Inf(1)), shift[j] + 3, 0}[rng.IntN(4)]
				}
			}
			s[i*lds+j] = x
		}
	}
	return s, lds, shift
}

var colSizes = [][2]int{{0, 8}, {1, 1}, {1, 8}, {3, 7}, {64, 64}, {5, 9}, {17, 16}, {64, 23}, {70, 65}, {2, 0}, {33, 40}}

// TestColMaxCount: every column against the documented loop, on every path,
// with guard values after each output.
func TestColMaxCount(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, sz := range colSizes {
			for _, specials := range []bool{false, true} {
				m, n := sz[0], sz[1]
				s, lds, _ := colCase(rng, m, n, specials)
				if specials && m > 2 && n > 1 { // a column of NaN only, one of −Inf only
					for i := range m {
						s[i*lds], s[i*lds+1] = float32(math.NaN()), float32(math.Inf(-1))
					}
				}
				const guard = 777
				mx := make([]float32, n+2)[1:]
				cnt := make([]int32, n+2)[1:]
				mx[n], cnt[n] = guard, guard
				ColMaxCount(mx[:n], cnt[:n], s, lds, m, n)
				if mx[n] != guard || cnt[n] != guard {
					t.Fatalf("%v: guard overwritten", sz)
				}
				for j := range n {
					wm, wn := float32(math.Inf(-1)), int32(0)
					for i := range m {
						if v := s[i*lds+j]; !math.IsInf(float64(v), -1) {
							wn++
							if v > wm {
								wm = v
							}
						}
					}
					if mx[j] != wm || cnt[j] != wn {
						t.Fatalf("%v specials=%v column %d: got (%v, %d), want (%v, %d)", sz, specials, j, mx[j], cnt[j], wm, wn)
					}
				}
			}
		}
		mustPanic(t, "ColMaxCount short s", func() { ColMaxCount(make([]float32, 8), make([]int32, 8), make([]float32, 15), 8, 2, 8) })
	})
}

// TestColExpShiftSum: on every path each weight is Exp's value bit for bit,
// each column's sum and entropy term are the documented float32 loop bit for
// bit (rows in order) and within rounding of a float64 sum; in place and
// apart, with and without t, with guards around the outputs.
func TestColExpShiftSum(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, sz := range colSizes {
			for _, specials := range []bool{false, true} {
				for _, inPlace := range []bool{false, true} {
					for _, withT := range []bool{false, true} {
						m, n := sz[0], sz[1]
						tag := fmt.Sprintf("%v specials=%v inPlace=%v t=%v", sz, specials, inPlace, withT)
						s, lds, shift := colCase(rng, m, n, specials)
						src := append([]float32(nil), s...)
						p, ldp := s, lds
						if !inPlace {
							ldp = n + 1
							p = make([]float32, 1+max(0, (m-1)*ldp+n)+1)[1:]
							for i := range p {
								p[i] = 555
							}
							p = p[:len(p)-1]
						}
						const guard = 777
						sum := make([]float32, n+1)
						sum[n] = guard
						var tt []float32
						if withT {
							tt = make([]float32, n+1)
							tt[n] = guard
						}
						var tn []float32
						if withT {
							tn = tt[:n]
						}
						ColExpShiftSum(p, ldp, s, lds, m, n, shift, sum[:n], tn)
						if sum[n] != guard || withT && tt[n] != guard || !inPlace && p[:cap(p)][len(p)] != 555 {
							t.Fatalf("%s: guard overwritten", tag)
						}
						for j := range n {
							var ws, wt float32
							var s64, mag float64
							for i := range m {
								d := src[i*lds+j] - shift[j]
								e := Exp(d)
								if got := p[i*ldp+j]; math.Float32bits(got) != math.Float32bits(e) {
									t.Fatalf("%s (%d,%d): weight %v, Exp gives %v", tag, i, j, got, e)
								}
								ws += e
								wt += e * max(d, expLo)
								s64 += float64(e)
								mag += math.Abs(float64(e) * float64(max(d, expLo)))
							}
							if !same32(sum[j], ws) || withT && !same32(tt[j], wt) {
								t.Fatalf("%s column %d: sum, t = %v, %v; want %v, %v", tag, j, sum[j], tt[j], ws, wt)
							}
							if !specials && math.Abs(float64(sum[j])-s64) > float64(m+1)*1.2e-7*s64 {
								t.Fatalf("%s column %d: sum %v, float64 %v", tag, j, sum[j], s64)
							}
						}
						if !inPlace {
							for i := range m { // the padding between p's rows is untouched
								for j := n; j < ldp && i*ldp+j < len(p); j++ {
									if p[i*ldp+j] != 555 {
										t.Fatalf("%s: p padding (%d,%d) overwritten", tag, i, j)
									}
								}
							}
						}
					}
				}
			}
		}
		mustPanic(t, "ColExpShiftSum short shift", func() {
			ColExpShiftSum(make([]float32, 16), 8, make([]float32, 16), 8, 2, 8, make([]float32, 7), make([]float32, 8), nil)
		})
	})
}

// same32: equal bits, or both NaN.
func same32(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// BenchmarkColExpShiftSum is the online softmax's exp pass over one key tile
// of the fused attention kernel: 64 keys × 64 queries (row stride 64), with
// and without the entropy term; ns/exp is per weight.
func BenchmarkColExpShiftSum(b *testing.B) {
	const m, n = 64, 64
	rng := rand.New(rand.NewPCG(25, 26))
	s, lds, shift := colCase(rng, m, n, false)
	p := make([]float32, m*n)
	sum, tt := make([]float32, n), make([]float32, n)
	for _, withT := range []bool{false, true} {
		b.Run(fmt.Sprintf("t=%v", withT), func(b *testing.B) {
			var tn []float32
			if withT {
				tn = tt
			}
			for b.Loop() {
				ColExpShiftSum(p, n, s, lds, m, n, shift, sum, tn)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m*n), "ns/exp")
		})
	}
}
