package kernels

import (
	"flag"
	"math"
	"runtime"
	"sync"
	"testing"
)

var exhaustive = flag.Bool("kernels.exhaustive", false, "check Exp on every float32 in its range (slow)")

// expLo (exp.go): below it Exp flushes to 0.
const expHi = float32(88.72283905206835) // above: +Inf

// expULP returns |Exp(x) - e**x| in units of the float32 ulp of e**x (the
// exact value is math.Exp in float64, whose own error is negligible here).
func expULP(x float32) float64 {
	want := math.Exp(float64(x))
	got := float64(Exp(x))
	if w32 := float64(float32(want)); math.IsInf(w32, 0) { // beyond MaxFloat32
		if got == w32 {
			return 0
		}
		return math.Inf(1)
	}
	a := math.Abs(want)
	ulp := 0x1p-149 // subnormal spacing
	if a >= 0x1p-126 {
		_, e := math.Frexp(a) // a = f·2^e, f in [0.5, 1)
		ulp = math.Ldexp(1, e-24)
	}
	return math.Abs(got-want) / ulp
}

// expSweepBits returns the largest expULP over the float32 bit patterns
// b0, b0+step, ... ≤ b1, and where it occurred.
func expSweepBits(b0, b1, step uint32) (worst float64, at float32) {
	for b := uint64(b0); b <= uint64(b1); b += uint64(step) {
		x := math.Float32frombits(uint32(b))
		if e := expULP(x); e > worst || e != e {
			worst, at = e, x
		}
	}
	return worst, at
}

// expSweep is expSweepBits over the float32 values in [lo, hi]: negative
// values by bit pattern from -0 down to lo, then +0 up to hi.
func expSweep(lo, hi float32, step uint32) (worst float64, at float32) {
	note := func(w float64, x float32) {
		if w > worst || w != w {
			worst, at = w, x
		}
	}
	if lo < 0 {
		top := uint32(1 << 31) // -0
		if hi < 0 {
			top = math.Float32bits(hi)
		}
		note(expSweepBits(top, math.Float32bits(lo), step))
	}
	if hi >= 0 {
		note(expSweepBits(math.Float32bits(max(lo, 0)), math.Float32bits(hi), step))
	}
	return worst, at
}

func TestExpAccuracy(t *testing.T) {
	var worst float64
	var at float32
	note := func(w float64, x float32) {
		if w > worst {
			worst, at = w, x
		}
	}
	// Dense uniform sweep of the whole non-flushed range.
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	for i := 0; i <= n; i++ {
		x := expLo + (expHi-expLo)*float32(float64(i)/float64(n))
		note(expULP(x), x)
	}
	// Every 61st float32 in [-1, 1] (≈35 million values; 997th with -short),
	// which covers all the tiny arguments too.
	step := uint32(61)
	if testing.Short() {
		step = 997
	}
	note(expSweep(-1, 1, step))
	// Every float32 next to the ends of the range and next to the
	// range-reduction switch points k·ln2/2.
	note(expSweep(expLo, expLo+0.01, 1))
	note(expSweep(expHi-0.01, expHi, 1))
	for k := -125; k <= 127; k += 7 {
		c := float32((float64(k) + 0.5) * math.Ln2)
		note(expSweep(c-1e-4*max(1, abs32(c)), c+1e-4*max(1, abs32(c)), 1))
	}
	t.Logf("Exp: max error %.4f ulp, at x=%v", worst, at)
	if worst > 2 || worst != worst {
		t.Errorf("Exp: max error %.4f ulp at x=%v (Exp %v, math.Exp %v), want ≤ 2", worst, at, Exp(at), math.Exp(float64(at)))
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// TestExpExhaustive checks every float32 in [expLo, expHi]; run with
// go test ./internal/kernels -run ExpExhaustive -kernels.exhaustive
func TestExpExhaustive(t *testing.T) {
	if !*exhaustive {
		t.Skip("needs -kernels.exhaustive")
	}
	// Chunks of 2**22 bit patterns from [expLo, -0] and [+0, expHi].
	type span struct{ b0, b1 uint32 }
	var spans []span
	for _, r := range []span{{1 << 31, math.Float32bits(expLo)}, {0, math.Float32bits(expHi)}} {
		for b := r.b0; b <= r.b1; b += 1 << 22 {
			spans = append(spans, span{b, min(b+(1<<22)-1, r.b1)})
		}
	}
	var mu sync.Mutex
	var worst float64
	var at float32
	work := make(chan span)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for s := range work {
				w, x := expSweepBits(s.b0, s.b1, 1)
				mu.Lock()
				if w > worst {
					worst, at = w, x
				}
				mu.Unlock()
			}
		})
	}
	for _, s := range spans {
		work <- s
	}
	close(work)
	wg.Wait()
	t.Logf("Exp over every float32 in [%v, %v]: max error %.4f ulp at x=%v", expLo, expHi, worst, at)
	if worst > 2 {
		t.Errorf("max error %.4f ulp > 2", worst)
	}
}

func TestExpSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	if got := Exp(nan); got == got {
		t.Errorf("Exp(NaN) = %v", got)
	}
	if got := Exp(-nan); got == got {
		t.Errorf("Exp(-NaN) = %v", got)
	}
	for _, tc := range []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{1, float32(math.E)},
		{inf, inf},
		{-inf, 0},
		{-1000, 0},
		{-100, 0},
		{-87.5, 0}, // below ln 2**-126: flushed
		{1000, inf},
		{89, inf},
		{math.Nextafter32(expHi, 100), inf},
		{0x1p-30, 1},
		{-0x1p-30, 1},
	} {
		if got := Exp(tc.x); math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("Exp(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	// float32(88.72283905…) is just above ln MaxFloat32: e**x rounds to +Inf.
	// The float32 below it is the largest argument with a finite result.
	if got := Exp(expHi); !math.IsInf(float64(got), 1) {
		t.Errorf("Exp(%v) = %v, want +Inf (e**x = %g)", expHi, got, math.Exp(float64(expHi)))
	}
	if x := math.Nextafter32(expHi, 0); math.IsInf(float64(Exp(x)), 0) || expULP(x) > 2 {
		t.Errorf("Exp(%v) = %v, want %g", x, Exp(x), math.Exp(float64(x)))
	}
	// The smallest accepted argument gives just under 2**-126.
	if got := Exp(expLo); got == 0 || expULP(expLo) > 2 {
		t.Errorf("Exp(%v) = %v, want %g", expLo, got, math.Exp(float64(expLo)))
	}
	if got := Exp(math.Nextafter32(expLo, -100)); got != 0 {
		t.Errorf("Exp just below %v = %v, want 0", expLo, got)
	}
	// Monotone across the top and bottom of the range.
	prev := float32(0)
	for x := expLo; x <= expLo+0.001; x = math.Nextafter32(x, 100) {
		if y := Exp(x); y < prev {
			t.Fatalf("Exp not monotone at %v", x)
		} else {
			prev = y
		}
	}
}

func BenchmarkExp(b *testing.B) {
	// Softmax-like arguments: x - max over a row of logits.
	xs := make([]float32, 1024)
	for i := range xs {
		xs[i] = -20 * float32(i) / float32(len(xs))
	}
	ys := make([]float32, len(xs))
	for b.Loop() {
		for i, x := range xs {
			ys[i] = Exp(x)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/exp")
}
