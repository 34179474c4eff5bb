package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ulpOf returns |got − e**x| in float32 ulps of e**x (as expULP does for Exp).
func ulpOf(got, x float32) float64 {
	want := math.Exp(float64(x))
	if w32 := float64(float32(want)); math.IsInf(w32, 0) {
		if float64(got) == w32 {
			return 0
		}
		return math.Inf(1)
	}
	ulp := 0x1p-149
	if a := math.Abs(want); a >= 0x1p-126 {
		_, e := math.Frexp(a)
		ulp = math.Ldexp(1, e-24)
	}
	return math.Abs(float64(got)-want) / ulp
}

// checkExpShiftSum runs ExpShiftSum on src (copied into a guarded dst at
// offset off) and checks every element and the sum.
func checkExpShiftSum(t *testing.T, tag string, src []float32, shift float32, off int, inPlace bool) {
	t.Helper()
	dst, check := guarded(len(src), off)
	in := src
	if inPlace {
		copy(dst, src)
		in = dst
	}
	got := ExpShiftSum(dst, in, shift)
	if err := check(); err != nil {
		t.Fatalf("%s: %v", tag, err)
	}
	var want, abs float64
	finite := true
	for i, x := range src {
		arg := x - shift
		e := dst[i]
		switch {
		case arg != arg:
			if e == e {
				t.Fatalf("%s: Exp(NaN) gave %v at %d", tag, e, i)
			}
			finite = false
			continue
		case math.IsInf(float64(arg), -1) || arg < expLo:
			if math.Float32bits(e) != 0 {
				t.Fatalf("%s: Exp(%v) = %v at %d, want exactly +0", tag, arg, e, i)
			}
		default:
			if u := ulpOf(e, arg); u > 2 {
				t.Fatalf("%s: Exp(%v) = %v at %d, %.3g ulp from math.Exp", tag, arg, e, i, u)
			}
		}
		if noFMA && math.Float32bits(e) != math.Float32bits(Exp(arg)) {
			t.Fatalf("%s: element %d = %v, Exp gives %v", tag, i, e, Exp(arg))
		}
		if math.IsInf(float64(e), 0) {
			finite = false
		}
		want += float64(e)
		abs += math.Abs(float64(e))
	}
	if !finite {
		if got == got && !math.IsInf(float64(got), 1) {
			t.Fatalf("%s: sum %v, want NaN or +Inf", tag, got)
		}
		return
	}
	if math.IsInf(float64(got), 1) && want+dotBound(len(src), abs) > math.MaxFloat32 {
		return // the float32 sum may overflow
	}
	if err := math.Abs(float64(got) - want); err > dotBound(len(src), abs) {
		t.Fatalf("%s: sum %v, float64 %v, |err| %g", tag, got, want, err)
	}
}

func TestExpShiftSum(t *testing.T) { forEachImpl(t, testExpShiftSum) }

func testExpShiftSum(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ninf := float32(math.Inf(-1))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(r.NormFloat64() * 8)
				if r.IntN(5) == 0 {
					src[i] = ninf // a masked key
				}
			}
			shift := float32(r.NormFloat64() * 4)
			tag := fmt.Sprintf("n=%d off=%d", n, off)
			checkExpShiftSum(t, tag, src, shift, off, false)
			checkExpShiftSum(t, tag+" in place", src, shift, off, true)
		}
	}
	// A dense sweep of the arguments softmax meets and the ends of Exp's
	// range, 1000 at a time.
	var sweep []float32
	for i := 0; i <= 400_000; i++ {
		sweep = append(sweep, -100+190*float32(i)/400_000)
	}
	for _, c := range []float32{expLo, expHi} {
		x := c - 1e-3
		for range 4000 {
			sweep = append(sweep, x)
			x = math.Nextafter32(x, 100)
		}
	}
	for i := 0; i < len(sweep); i += 1000 {
		checkExpShiftSum(t, fmt.Sprintf("sweep %d", i), sweep[i:min(i+1000, len(sweep))], 0, 1, false)
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, ninf, ninf, inf, nan, -nan, 1000, -1000, expHi,
		math.Nextafter32(expHi, 0), expLo, math.Nextafter32(expLo, -100), 88.5, 88.7, -87.3, 0x1p-30}
	for _, shift := range []float32{0, 0.5, -3} {
		checkExpShiftSum(t, fmt.Sprint("special shift=", shift), special, shift, 2, false)
	}
	// Only masked keys: all zeros, sum exactly 0.
	dst := make([]float32, 11)
	if s := ExpShiftSum(dst, []float32{ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf}, 2); s != 0 || math.Signbit(float64(s)) {
		t.Errorf("all -Inf: sum %v, want +0", s)
	}
	mustPanic(t, "ExpShiftSum length mismatch", func() { ExpShiftSum(make([]float32, 3), make([]float32, 4), 0) })
}

func BenchmarkExpShiftSum(b *testing.B) {
	xs := make([]float32, 1024)
	for i := range xs {
		xs[i] = -20 * float32(i) / float32(len(xs))
	}
	ys := make([]float32, len(xs))
	var s float32
	for b.Loop() {
		s += ExpShiftSum(ys, xs, 0.5)
	}
	sinkF32 = s
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/exp")
}

// TestExpShiftSumT: on every path the weights and their sum are
// ExpShiftSum's (bit for bit), and the entropy term is a float64 reference
// of Σ e·(x−shift) over the keys with e ≠ 0, within n·eps of Σ|e·(x−shift)|;
// masked −Inf keys add nothing and a NaN makes the term NaN.
func TestExpShiftSumT(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		ninf := float32(math.Inf(-1))
		for _, n := range vecSizes {
			src := make([]float32, n)
			shift := float32(r.NormFloat64() * 4)
			for i := range src { // at most the shift, as under softmax's max; some so far below that e flushes to 0
				src[i] = shift - float32(math.Abs(r.NormFloat64()*40))
				if r.IntN(4) == 0 {
					src[i] = ninf
				}
			}
			want := make([]float32, n)
			wsum := ExpShiftSum(want, src, shift)
			got := make([]float32, n)
			sum, tt := ExpShiftSumT(got, src, shift)
			if sum != wsum || !slices.Equal(got, want) {
				t.Fatalf("n=%d: weights or sum differ from ExpShiftSum (%v vs %v)", n, sum, wsum)
			}
			var ref, mag float64
			for i, x := range src {
				if got[i] != 0 {
					p := float64(got[i]) * float64(x-shift)
					ref += p
					mag += math.Abs(p)
				}
			}
			if err := math.Abs(float64(tt) - ref); math.IsNaN(err) || err > float64(n+8)*1.2e-7*mag+1e-37 {
				t.Fatalf("n=%d: t = %v, want %v", n, tt, ref)
			}
			// In place (dst = src): the same weights, sum and term.
			inPlace := append([]float32(nil), src...)
			if s2, t2 := ExpShiftSumT(inPlace, inPlace, shift); s2 != sum || math.Float32bits(t2) != math.Float32bits(tt) || !slices.Equal(inPlace, got) {
				t.Fatalf("n=%d: in place sum, t = %v, %v; apart %v, %v", n, s2, t2, sum, tt)
			}
		}
		src := []float32{1, 2, float32(math.NaN()), 0, 1, 2, 3, 4, 5}
		if _, tt := ExpShiftSumT(make([]float32, len(src)), src, 0); !math.IsNaN(float64(tt)) {
			t.Errorf("NaN input: t = %v, want NaN", tt)
		}
		mustPanic(t, "ExpShiftSumT length mismatch", func() { ExpShiftSumT(make([]float32, 3), make([]float32, 4), 0) })
	})
}
