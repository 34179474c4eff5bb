package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Shared test helpers.

// u32 is the float32 unit roundoff, 2**-24.
const u32 = 0x1p-24

// sentinel marks memory a kernel must not touch; compared by bits.
var sentinel = math.Float32frombits(0x7fc0dead)

var vecSizes = []int{0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 768, 1000}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// guarded returns a slice of length n starting at offset off inside a larger
// buffer whose other elements hold sentinel, and a function that reports the
// first sentinel that was overwritten.
func guarded(n, off int) ([]float32, func() error) {
	const pad = 8
	buf := make([]float32, off+n+pad)
	for i := range buf {
		buf[i] = sentinel
	}
	s := buf[off : off+n : off+n]
	check := func() error {
		for i, v := range buf {
			if (i < off || i >= off+n) && math.Float32bits(v) != math.Float32bits(sentinel) {
				return fmt.Errorf("guard element %d (slice is [%d:%d]) overwritten with %v", i, off, off+n, v)
			}
		}
		return nil
	}
	return s, check
}

// fillGuarded returns a guarded slice (see guarded) holding normals.
func fillGuarded(r *rand.Rand, n, off int) ([]float32, func() error) {
	s, check := guarded(n, off)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s, check
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

// dotBound is the float32 error bound for a sum of n rounded products whose
// absolute values add up to abs: each product and each of the n additions
// rounds once, so |err| ≤ (n+1)·u·abs to first order; (n+2) covers the rest.
func dotBound(n int, abs float64) float64 {
	return float64(n+2) * u32 * abs
}

// dotLanes is the documented lane order of Dot, written out independently.
func dotLanes(x, y []float32) float32 {
	var lane [4]float32
	n4 := len(x) &^ 3
	for i := 0; i < n4; i++ {
		lane[i%4] += x[i] * y[i]
	}
	for i := n4; i < len(x); i++ {
		lane[0] += x[i] * y[i]
	}
	return (lane[0] + lane[1]) + (lane[2] + lane[3])
}

func TestDot(t *testing.T) { forEachImpl(t, testDot) }

func testDot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			x, cx := fillGuarded(r, n, off)
			y, cy := fillGuarded(r, n, 3-off)
			x0, y0 := append([]float32(nil), x...), append([]float32(nil), y...)
			got := Dot(x, y)
			var want, abs float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
				abs += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if err := math.Abs(float64(got) - want); err > dotBound(n, abs) {
				t.Errorf("n=%d off=%d: Dot = %v, float64 %v, |err| %g > bound %g", n, off, got, want, err, dotBound(n, abs))
			}
			if noFMA && impl == implGo {
				if lanes := dotLanes(x, y); math.Float32bits(got) != math.Float32bits(lanes) {
					t.Errorf("n=%d off=%d: Dot = %v, documented lane order gives %v", n, off, got, lanes)
				}
			}
			if impl.simd() {
				if lanes := dotLanesAVX2(x, y); math.Float32bits(got) != math.Float32bits(lanes) {
					t.Errorf("n=%d off=%d: Dot = %v, documented AVX2 order gives %v", n, off, got, lanes)
				}
			}
			for _, e := range []error{cx(), cy()} {
				if e != nil {
					t.Errorf("n=%d off=%d: %v", n, off, e)
				}
			}
			for i := range x {
				if x[i] != x0[i] || y[i] != y0[i] {
					t.Fatalf("n=%d: Dot modified its inputs", n)
				}
			}
		}
	}
	mustPanic(t, "Dot length mismatch", func() { Dot(make([]float32, 3), make([]float32, 4)) })
	mustPanic(t, "Dot length mismatch", func() { Dot(nil, make([]float32, 1)) })
}

func TestDotSpecial(t *testing.T) { forEachImpl(t, testDotSpecial) }

func testDotSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	if got := Dot([]float32{1, inf, 2}, []float32{1, 1, 1}); !math.IsInf(float64(got), 1) {
		t.Errorf("Dot with +Inf = %v", got)
	}
	if got := Dot([]float32{inf, 1}, []float32{0, 1}); got == got {
		t.Errorf("Dot with Inf·0 = %v, want NaN", got)
	}
	if got := Dot(nil, nil); got != 0 {
		t.Errorf("Dot(nil, nil) = %v", got)
	}
}

func TestAxpy(t *testing.T) { forEachImpl(t, testAxpy) }

func testAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			a := float32(r.NormFloat64())
			x, cx := fillGuarded(r, n, off)
			y, cy := fillGuarded(r, n, (off+1)%4)
			y0 := append([]float32(nil), y...)
			Axpy(a, x, y)
			for i := range y {
				// One product and one sum, each rounded once.
				want := float64(y0[i]) + float64(a)*float64(x[i])
				bound := 2 * u32 * (math.Abs(float64(y0[i])) + math.Abs(float64(a)*float64(x[i])))
				if err := math.Abs(float64(y[i]) - want); err > bound {
					t.Fatalf("n=%d off=%d i=%d: Axpy gives %v, want %v", n, off, i, y[i], want)
				}
				if impl.simd() && math.Float32bits(y[i]) != math.Float32bits(fma32(a, x[i], y0[i])) {
					t.Fatalf("n=%d off=%d i=%d: Axpy gives %v, one rounding gives %v", n, off, i, y[i], fma32(a, x[i], y0[i]))
				}
			}
			for _, e := range []error{cx(), cy()} {
				if e != nil {
					t.Errorf("n=%d off=%d: %v", n, off, e)
				}
			}
		}
	}
	mustPanic(t, "Axpy length mismatch", func() { Axpy(1, make([]float32, 3), make([]float32, 4)) })
	mustPanic(t, "Axpy length mismatch", func() { Axpy(1, make([]float32, 4), make([]float32, 3)) })
}

func TestScale(t *testing.T) { forEachImpl(t, testScale) }

func testScale(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			a := float32(r.NormFloat64())
			x, cx := fillGuarded(r, n, off)
			x0 := append([]float32(nil), x...)
			Scale(a, x)
			for i := range x {
				// A float32 product is the correctly rounded float64 product.
				if want := float32(float64(a) * float64(x0[i])); x[i] != want {
					t.Fatalf("n=%d off=%d i=%d: Scale gives %v, want %v", n, off, i, x[i], want)
				}
			}
			if e := cx(); e != nil {
				t.Errorf("n=%d off=%d: %v", n, off, e)
			}
		}
	}
}

func TestSumSquares(t *testing.T) { forEachImpl(t, testSumSquares) }

func testSumSquares(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			x, cx := fillGuarded(r, n, off)
			x0 := append([]float32(nil), x...)
			got := SumSquares(x)
			// Squares of float32 values are exact in float64; only the n
			// float64 additions round (unit roundoff 2**-53).
			var want float64
			for _, v := range x {
				want += float64(v) * float64(v)
			}
			if bound := float64(n+1) * 0x1p-53 * want; math.Abs(got-want) > bound {
				t.Errorf("n=%d off=%d: SumSquares = %v, want %v", n, off, got, want)
			}
			if lanes := sumSquaresLanes(x); math.Float64bits(got) != math.Float64bits(lanes) {
				t.Errorf("n=%d off=%d: SumSquares = %v, documented lane order gives %v", n, off, got, lanes)
			}
			if e := cx(); e != nil {
				t.Errorf("n=%d off=%d: %v", n, off, e)
			}
			if !slices.Equal(x, x0) {
				t.Errorf("n=%d off=%d: SumSquares modified its input", n, off)
			}
		}
	}
	// float32 overflow must not matter: the sum is kept in float64.
	big := float32(3e38)
	if got, want := SumSquares([]float32{big, big}), 2*float64(big)*float64(big); got != want {
		t.Errorf("SumSquares of large values = %v, want %v", got, want)
	}
	if got := SumSquares(nil); got != 0 || math.Signbit(got) {
		t.Errorf("SumSquares(nil) = %v, want +0", got)
	}
}

// sumSquaresLanes is the documented lane order of SumSquares, written out
// independently.
func sumSquaresLanes(x []float32) float64 {
	var s [4]float64
	for i, v := range x {
		s[i%4] += float64(v) * float64(v)
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

// TestSumSquaresSpecial: a NaN anywhere gives NaN, an infinity (and no NaN)
// +Inf, at every position of odd and whole-vector lengths.
func TestSumSquaresSpecial(t *testing.T) { forEachImpl(t, testSumSquaresSpecial) }

func testSumSquaresSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{1, 3, 5, 8, 9, 13, 16, 17} {
		for pos := 0; pos < n; pos++ {
			for _, c := range []struct {
				v     float32
				isNaN bool
			}{{nan, true}, {inf, false}, {-inf, false}} {
				x, cx := fillGuarded(r, n, pos%4)
				x[pos] = c.v
				got := SumSquares(x)
				if c.isNaN != math.IsNaN(got) || (!c.isNaN && !math.IsInf(got, 1)) {
					t.Errorf("n=%d: %v at %d: SumSquares = %v", n, c.v, pos, got)
				}
				if e := cx(); e != nil {
					t.Errorf("n=%d pos=%d: %v", n, pos, e)
				}
			}
		}
	}
}

// TestScaleSumSquares: the products are Scale's (float32, correctly
// rounded), stored in place, and the sum is SumSquares' documented order over
// them, bit for bit; infinite and NaN factors leave memory outside x alone
// and give no NaN from lanes past its end.
// TestScaleSumSquaresRows: every row is scaled by its own factor and its sum
// of squares is sumSquaresLanes of the scaled row (ScaleSumSquares' bits),
// for row counts around the AVX2 path's groups of 4 and lengths on and off
// its multiples of 8, in a matrix whose padding between rows (row stride
// n+3, unaligned) must stay untouched; factors include 1, 0 and +Inf.
func TestScaleSumSquaresRows(t *testing.T) { forEachImpl(t, testScaleSumSquaresRows) }

func testScaleSumSquaresRows(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	factors := []float32{1, 0, float32(math.Inf(1)), 0.25, -3}
	for _, rows := range []int{0, 1, 3, 4, 5, 8, 11} {
		for _, n := range []int{0, 7, 8, 16, 24, 64, 65} {
			ld := n + 3
			const guard = 777
			x := make([]float32, 1+rows*ld)[1:]
			for i := range x {
				x[i] = guard
			}
			a := make([]float32, rows)
			for i := range rows {
				for j := range n {
					x[i*ld+j] = float32(r.NormFloat64())
				}
				a[i] = factors[r.IntN(len(factors))]
				if r.IntN(2) == 0 {
					a[i] = float32(r.NormFloat64())
				}
			}
			x0 := append([]float32(nil), x...)
			ss := make([]float64, rows+1)
			ss[rows] = guard
			ScaleSumSquaresRows(a, x, ld, rows, n, ss[:rows])
			if ss[rows] != guard {
				t.Fatalf("rows=%d n=%d: ss guard overwritten", rows, n)
			}
			for i := range rows {
				for j := range ld {
					if i*ld+j >= len(x) {
						break
					}
					got := x[i*ld+j]
					want := x0[i*ld+j] // padding: untouched
					if j < n {
						want = float32(float64(a[i]) * float64(x0[i*ld+j]))
					}
					if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
						t.Fatalf("rows=%d n=%d (%d,%d) a=%v: x = %v, want %v", rows, n, i, j, a[i], got, want)
					}
				}
				want := sumSquaresLanes(x[i*ld : i*ld+n])
				if math.Float64bits(ss[i]) != math.Float64bits(want) && !(math.IsNaN(ss[i]) && math.IsNaN(want)) {
					t.Fatalf("rows=%d n=%d row %d a=%v: ss = %v, want %v", rows, n, i, a[i], ss[i], want)
				}
			}
		}
	}
	mustPanic(t, "ScaleSumSquaresRows short x", func() {
		ScaleSumSquaresRows(make([]float32, 2), make([]float32, 15), 8, 2, 8, make([]float64, 2))
	})
}

func TestScaleSumSquares(t *testing.T) { forEachImpl(t, testScaleSumSquares) }

func testScaleSumSquares(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			for _, a := range []float32{float32(r.NormFloat64()), 1, 0, float32(math.Inf(1)), 3e30} {
				x, cx := fillGuarded(r, n, off)
				x0 := append([]float32(nil), x...)
				got := ScaleSumSquares(a, x)
				for i := range x {
					if want := float32(float64(a) * float64(x0[i])); math.Float32bits(x[i]) != math.Float32bits(want) && !(x[i] != x[i] && want != want) {
						t.Fatalf("n=%d off=%d a=%v i=%d: x = %v, want %v", n, off, a, i, x[i], want)
					}
				}
				want := sumSquaresLanes(x)
				if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Errorf("n=%d off=%d a=%v: ScaleSumSquares = %v, want %v", n, off, a, got, want)
				}
				if e := cx(); e != nil {
					t.Errorf("n=%d off=%d a=%v: %v", n, off, a, e)
				}
			}
		}
	}
	// An infinite factor with no zero in x gives +Inf, not NaN, however
	// the length ends within a vector.
	for n := 1; n <= 17; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = 0.5
		}
		if got := ScaleSumSquares(float32(math.Inf(1)), x); !math.IsInf(got, 1) {
			t.Errorf("n=%d: ScaleSumSquares(+Inf, 0.5…) = %v, want +Inf", n, got)
		}
	}
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{64, 768} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, y := randSlice(r, n), randSlice(r, n)
			var s float32
			for b.Loop() {
				s += Dot(x, y)
			}
			sinkF32 = s
			b.ReportMetric(2*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

var sinkF32 float32
