package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The AVX-512 exps and column softmax (zexp512_amd64.s) against the AVX2
// kernels, called directly: every output bit for bit (NaN payloads too), on
// shapes that reach each step size, the masked last 8 columns and the masked
// row tail, and on inputs that take the slow path in any stream of a step.

func needAVX512(t testing.TB) {
	if !haveAVX512 {
		t.Skip("no AVX-512 on this machine")
	}
}

// bitsEqual reports the first index where a and b differ in their bits.
func bitsEqual(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return -1, len(a) == len(b)
}

// special512 returns a value that takes the exps' slow path or a special
// case (NaN, ±Inf, above fastHi and hi, at lo), or a signed zero.
func special512(rng *rand.Rand, shift float32) float32 {
	nan := math.Float32frombits(0x7fc00000 | rng.Uint32()&0x3fffff) // payloads
	return []float32{nan, -nan, float32(math.Inf(1)), float32(math.Inf(-1)), shift + 88.5, shift + 100,
		shift + expHi, shift + expLo, 0, float32(math.Copysign(0, -1)), shift - 87.4}[rng.IntN(11)]
}

var col512M = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 17, 64}
var col512N = []int{8, 16, 24, 40, 64, 72, 136}

func TestColExpShiftSum512(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(51, 2))
	for _, m := range col512M {
		for _, n := range col512N {
			for _, specials := range []int{0, 1, 40} { // 1 in specials values is special; 0: none
				for _, inPlace := range []bool{false, true} {
					for _, withT := range []bool{false, true} {
						tag := fmt.Sprintf("m=%d n=%d specials=%d inPlace=%v t=%v", m, n, specials, inPlace, withT)
						checkCol512(t, rng, tag, m, n, specials, inPlace, withT)
					}
				}
			}
		}
	}
}

func checkCol512(t *testing.T, rng *rand.Rand, tag string, m, n, specials int, inPlace, withT bool) {
	t.Helper()
	lds, ldp := n+5, n+3
	if inPlace {
		ldp = lds
	}
	off := 1 + rng.IntN(3) // unaligned
	const guard = 555
	s := make([]float32, off+m*lds+8)
	for i := range s {
		s[i] = guard
	}
	shift := make([]float32, n+off)[off:]
	for j := range shift {
		shift[j] = float32(rng.NormFloat64() * 4)
	}
	for i := range m {
		for j := range n {
			x := shift[j] - float32(math.Abs(rng.NormFloat64()*12))
			if rng.IntN(10) == 0 {
				x = float32(math.Inf(-1))
			}
			if specials > 0 && rng.IntN(specials) == 0 {
				x = special512(rng, shift[j])
			}
			s[off+i*lds+j] = x
		}
	}
	var p2, p5 []float32
	sum2, sum5 := make([]float32, n+2), make([]float32, n+2)
	t2, t5 := make([]float32, n+2), make([]float32, n+2)
	for _, o := range [][]float32{sum2, sum5, t2, t5} {
		for i := range o {
			o[i] = guard
		}
	}
	s2, s5 := slices.Clone(s), slices.Clone(s)
	if inPlace {
		p2, p5 = s2, s5
	} else {
		p2, p5 = make([]float32, off+m*ldp+8), make([]float32, off+m*ldp+8)
		for i := range p2 {
			p2[i], p5[i] = guard, guard
		}
	}
	// The kernels see slices that end at the last column of the last row.
	end := func(b []float32, ld int) []float32 { return b[off : off+max(0, (m-1)*ld+n)] }
	if withT {
		colExpShiftSumTAVX2(end(p2, ldp), ldp, end(s2, lds), lds, m, n, shift, sum2[1:n+1], t2[1:n+1])
		colExpShiftSumTAVX512(end(p5, ldp), ldp, end(s5, lds), lds, m, n, shift, sum5[1:n+1], t5[1:n+1])
	} else {
		colExpShiftSumAVX2(end(p2, ldp), ldp, end(s2, lds), lds, m, n, shift, sum2[1:n+1])
		colExpShiftSumAVX512(end(p5, ldp), ldp, end(s5, lds), lds, m, n, shift, sum5[1:n+1])
	}
	for _, c := range []struct {
		what string
		a, b []float32
	}{{"p", p2, p5}, {"s", s2, s5}, {"sum", sum2, sum5}, {"t", t2, t5}} {
		if i, ok := bitsEqual(c.a, c.b); !ok {
			t.Fatalf("%s: %s[%d] avx2 %v (%#x), avx512 %v (%#x)", tag, c.what, i, c.a[i], math.Float32bits(c.a[i]), c.b[i], math.Float32bits(c.b[i]))
		}
	}
	// The guards are untouched (on both paths, since they agree).
	if sum5[0] != guard || sum5[n+1] != guard || t5[0] != guard || t5[n+1] != guard || !withT && t5[1] != guard {
		t.Fatalf("%s: sum or t guard overwritten", tag)
	}
	for i, v := range p5 {
		r, j := (i-off)/ldp, (i-off)%ldp
		if (i < off || r >= m || j >= n) && v != guard {
			t.Fatalf("%s: p[%d] outside the matrix overwritten with %v", tag, i, v)
		}
	}
	if noFMA { // and the twin's bits
		pg := slices.Clone(s)
		sg, tg := make([]float32, n), make([]float32, n)
		var tn []float32
		if withT {
			tn = tg
		}
		colExpShiftSumGo(pg[off:], lds, s[off:], lds, m, 0, n, shift, sg, tn)
		for i := range m {
			for j := range n {
				if a, b := pg[off+i*lds+j], p5[off+i*ldp+j]; !same32(a, b) {
					t.Fatalf("%s: p(%d,%d) = %v, twin %v", tag, i, j, b, a)
				}
			}
		}
		for j := range n {
			if !same32(sg[j], sum5[1+j]) || withT && !same32(tg[j], t5[1+j]) {
				t.Fatalf("%s column %d: sum, t = %v, %v; twin %v, %v", tag, j, sum5[1+j], t5[1+j], sg[j], tg[j])
			}
		}
	}
}

func TestColMaxCount512(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(52, 3))
	for _, m := range col512M {
		for _, n := range append(col512N, 128, 200) {
			for _, specials := range []int{0, 1, 3} {
				lds := n + 1 + rng.IntN(9)
				s := make([]float32, 1+max(0, (m-1)*lds+n))[1:]
				for i := range s {
					s[i] = float32(rng.NormFloat64())
					if specials > 0 && rng.IntN(specials) == 0 {
						s[i] = special512(rng, 0) // ±0 too: the sign of a zero max must agree
					}
				}
				const guard = 777
				mx2, mx5 := make([]float32, n+2), make([]float32, n+2)
				c2, c5 := make([]int32, n+2), make([]int32, n+2)
				for i := range mx2 {
					mx2[i], mx5[i], c2[i], c5[i] = guard, guard, guard, guard
				}
				colMaxCountAVX2(mx2[1:n+1], c2[1:n+1], s, lds, m, n)
				colMaxCountAVX512(mx5[1:n+1], c5[1:n+1], s, lds, m, n)
				tag := fmt.Sprintf("m=%d n=%d specials=%d", m, n, specials)
				if i, ok := bitsEqual(mx2, mx5); !ok || !slices.Equal(c2, c5) {
					t.Fatalf("%s: max or count differ (first max at %d)\navx2   %v %v\navx512 %v %v", tag, i, mx2, c2, mx5, c5)
				}
				if mx5[0] != guard || mx5[n+1] != guard || c5[0] != guard || c5[n+1] != guard {
					t.Fatalf("%s: guard overwritten", tag)
				}
			}
		}
	}
}

// expSumLanes is the documented order of the SIMD ExpShiftSum sums, written
// out from the weights: lane i%8 adds w[i] for i increasing, then hsum8.
func expSumLanes(w []float32) float32 {
	var l [8]float32
	for i, v := range w {
		l[i%8] += v
	}
	return hsum8(l)
}

func TestExpShiftSum512(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(53, 4))
	var sizes []int
	for n := 0; n <= 140; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 255, 256, 257, 1000, 1024)
	for _, n := range sizes {
		for _, specials := range []int{0, 1, 60} {
			for _, inPlace := range []bool{false, true} {
				off := rng.IntN(4)
				shift := float32(rng.NormFloat64() * 4)
				src := make([]float32, n)
				for i := range src {
					src[i] = shift - float32(math.Abs(rng.NormFloat64()*12))
					if rng.IntN(6) == 0 {
						src[i] = float32(math.Inf(-1))
					}
					if specials > 0 && rng.IntN(specials) == 0 {
						src[i] = special512(rng, shift)
					}
				}
				tag := fmt.Sprintf("n=%d specials=%d inPlace=%v", n, specials, inPlace)
				checkExpShiftSum512(t, tag, src, shift, off, inPlace)
			}
		}
	}
}

func checkExpShiftSum512(t *testing.T, tag string, src []float32, shift float32, off int, inPlace bool) {
	t.Helper()
	n := len(src)
	run := func(f func(dst, src []float32) (float32, float32)) ([]float32, float32, float32) {
		dst, check := guarded(n, off)
		in := src
		if inPlace {
			copy(dst, src)
			in = dst
		}
		s, tt := f(dst, in)
		if err := check(); err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		return dst, s, tt
	}
	plain := func(k func([]float32, []float32, float32) float32) func(dst, src []float32) (float32, float32) {
		return func(dst, src []float32) (float32, float32) { return k(dst, src, shift), 0 }
	}
	withT := func(k func([]float32, []float32, float32) (float32, float32)) func(dst, src []float32) (float32, float32) {
		return func(dst, src []float32) (float32, float32) { return k(dst, src, shift) }
	}
	d2, s2, _ := run(plain(expShiftSumAVX2))
	d5, s5, _ := run(plain(expShiftSumAVX512))
	dt2, st2, t2 := run(withT(expShiftSumTAVX2))
	dt5, st5, t5 := run(withT(expShiftSumTAVX512))
	for _, c := range []struct {
		what string
		a, b []float32
	}{{"dst", d2, d5}, {"dst (T)", d2, dt2}, {"dst (T)", d2, dt5},
		{"sum", []float32{s2}, []float32{s5}}, {"sum (T)", []float32{s2}, []float32{st2}}, {"sum (T)", []float32{s2}, []float32{st5}},
		{"t", []float32{t2}, []float32{t5}}} {
		if i, ok := bitsEqual(c.a, c.b); !ok {
			t.Fatalf("%s: %s[%d]: avx2 %v (%#x), avx512 %v (%#x)", tag, c.what, i, c.a[i], math.Float32bits(c.a[i]), c.b[i], math.Float32bits(c.b[i]))
		}
	}
	// The sums in the documented order, from the weights.
	if want := expSumLanes(d5); !same32(s5, want) {
		t.Fatalf("%s: sum %v, the 8-lane order gives %v", tag, s5, want)
	}
	prods := make([]float32, n)
	for i, x := range src {
		d := x - shift
		if !(d >= expLo) && d == d {
			d = expLo
		}
		prods[i] = d5[i] * d
	}
	if want := expSumLanes(prods); !same32(t5, want) {
		t.Fatalf("%s: t %v, the 8-lane order gives %v", tag, t5, want)
	}
	if noFMA {
		for i, x := range src {
			if e := Exp(x - shift); !same32(e, d5[i]) {
				t.Fatalf("%s: dst[%d] = %v, Exp gives %v", tag, i, d5[i], e)
			}
		}
	}
}

// TestExp512SlowStream: one lane that needs the slow path, in each lane of
// each vector of a step, leaves every other weight with Exp's bits.
func TestExp512SlowStream(t *testing.T) {
	needAVX512(t)
	for _, v := range []float32{float32(math.NaN()), 88.5, 95, float32(math.Inf(1))} {
		for pos := range 80 {
			src := make([]float32, 80)
			for i := range src {
				src[i] = -float32(i) / 7
			}
			src[pos] = v
			checkExpShiftSum512(t, fmt.Sprintf("v=%v pos=%d", v, pos), src, 0.25, 1, false)
		}
	}
}

// BenchmarkExp512 runs the column and row kernels on the fused attention
// kernel's shapes under both SIMD paths (sub-benchmarks avx2 and avx512), so
// that one run gives their ratio: a key tile of 64 keys × 64 queries (row
// stride 64), plain (every key visible) or masked (causal: key i > query j
// is −Inf), and a row of 1024 keys.
func BenchmarkExp512(b *testing.B) {
	if !haveAVX512 {
		b.Skip("no AVX-512 on this machine")
	}
	saved := impl
	defer func() { impl = saved }()
	const m, n = 64, 64
	rng := rand.New(rand.NewPCG(54, 6))
	shift := make([]float32, n)
	for j := range shift {
		shift[j] = float32(rng.NormFloat64() * 4)
	}
	tiles := map[string][]float32{}
	for _, kind := range []string{"plain", "masked"} {
		s := make([]float32, m*n)
		for i := range m {
			for j := range n {
				s[i*n+j] = shift[j] - float32(math.Abs(rng.NormFloat64()*4))
				if kind == "masked" && i > j {
					s[i*n+j] = float32(math.Inf(-1))
				}
			}
		}
		tiles[kind] = s
	}
	p := make([]float32, m*n)
	sum, tt := make([]float32, n), make([]float32, n)
	mx, cnt := make([]float32, n), make([]int32, n)
	row := make([]float32, 1024)
	for i := range row {
		row[i] = -20 * float32(i) / float32(len(row))
	}
	rowOut := make([]float32, len(row))
	for _, kind := range []string{"plain", "masked"} {
		for _, withT := range []bool{false, true} {
			var tn []float32
			if withT {
				tn = tt
			}
			for _, k := range []implKind{implAVX2, implAVX512} {
				b.Run(fmt.Sprintf("col/%s/t=%v/%v", kind, withT, k), func(b *testing.B) {
					impl = k
					for b.Loop() {
						ColExpShiftSum(p, n, tiles[kind], n, m, n, shift, sum, tn)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m*n), "ns/exp")
				})
			}
		}
		for _, k := range []implKind{implAVX2, implAVX512} {
			b.Run(fmt.Sprintf("colmax/%s/%v", kind, k), func(b *testing.B) {
				impl = k
				for b.Loop() {
					ColMaxCount(mx, cnt, tiles[kind], n, m, n)
				}
			})
		}
	}
	for _, withT := range []bool{false, true} {
		for _, k := range []implKind{implAVX2, implAVX512} {
			b.Run(fmt.Sprintf("row/t=%v/%v", withT, k), func(b *testing.B) {
				impl = k
				var s float32
				for b.Loop() {
					if withT {
						a, c := ExpShiftSumT(rowOut, row, 0.5)
						s += a + c
					} else {
						s += ExpShiftSum(rowOut, row, 0.5)
					}
				}
				sinkF32 = s
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(row)), "ns/exp")
			})
		}
	}
}

// TestExp512Patterns: the row kernels of both paths on float32 bit
// patterns, 4096 at a time, the weights, sums and entropy terms bit for bit:
// every 257th pattern by default, all 2^32 with -kernels.exhaustive. The
// plain kernels take them as they come (a run of patterns ≤ fastHi goes
// through the fast path); the T kernels with a NaN in every 16, so that
// every pattern also goes through the slow path.
func TestExp512Patterns(t *testing.T) {
	needAVX512(t)
	step := uint64(257)
	if *exhaustive {
		step = 1
	}
	const chunk = 4096
	src, srcT := make([]float32, chunk), make([]float32, 0, 2*chunk)
	d2, d5 := make([]float32, 2*chunk), make([]float32, 2*chunk)
	nan := math.Float32frombits(0x7fc00001)
	for b := uint64(0); b < 1<<32; b += chunk * step {
		n := 0
		srcT = srcT[:0]
		for ; n < chunk && b+uint64(n)*step < 1<<32; n++ {
			src[n] = math.Float32frombits(uint32(b + uint64(n)*step))
			if len(srcT)%16 == 15 {
				srcT = append(srcT, nan)
			}
			srcT = append(srcT, src[n])
		}
		s2 := expShiftSumAVX2(d2, src[:n], 0)
		s5 := expShiftSumAVX512(d5, src[:n], 0)
		if i, ok := bitsEqual(d2[:n], d5[:n]); !ok || math.Float32bits(s2) != math.Float32bits(s5) {
			t.Fatalf("from %#x: sums %v, %v; first weight apart at %d (x = %v)", b, s2, s5, i, src[max(i, 0)])
		}
		m := len(srcT)
		s2, t2 := expShiftSumTAVX2(d2, srcT, -0.5)
		s5, t5 := expShiftSumTAVX512(d5, srcT, -0.5)
		if i, ok := bitsEqual(d2[:m], d5[:m]); !ok || math.Float32bits(s2) != math.Float32bits(s5) || math.Float32bits(t2) != math.Float32bits(t5) {
			t.Fatalf("from %#x (T): sums %v, %v; t %v, %v; first weight apart at %d (x = %v)", b, s2, s5, t2, t5, i, srcT[max(i, 0)])
		}
	}
}
