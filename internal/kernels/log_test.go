package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// logULP returns |got − ln x| in float32 ulps of ln x (math.Log in float64
// stands for the exact value; its own error is 2^-29 of a float32 ulp).
func logULP(x, got float32) float64 {
	want := math.Log(float64(x))
	_, e := math.Frexp(math.Abs(want)) // |want| = f·2^e, f in [0.5, 1)
	ulp := math.Ldexp(1, e-24)
	if want == 0 {
		ulp = 0x1p-149
	}
	return math.Abs(float64(got)-want) / ulp
}

// TestLogAccuracy sweeps the positive finite float32 (subnormals included)
// by bit pattern: every result is within 0.5 ulp of ln x but for float64
// rounding (0.5 + 2^-20), and one that differs from float32(math.Log(x))
// does so by one ulp with ln x within 2^-20 ulp of the rounding boundary.
func TestLogAccuracy(t *testing.T) { forEachImpl(t, testLogAccuracy) }

func testLogAccuracy(t *testing.T) {
	step := uint32(251)
	if testing.Short() {
		step = 997
	}
	const chunk = 4096
	src, dst := make([]float32, 0, chunk), make([]float32, chunk)
	var worst float64
	var at float32
	mismatches := 0
	check := func() {
		dst := dst[:len(src)]
		Log(dst, src)
		for i, x := range src {
			e := logULP(x, dst[i])
			if e > worst {
				worst, at = e, x
			}
			if ref := float32(math.Log(float64(x))); dst[i] != ref {
				mismatches++
				if d := math.Abs(logULP(x, ref) - 0.5); d > 0x1p-20 || math.Abs(float64(dst[i])-float64(ref)) > math.Abs(float64(ref))*0x1p-23 {
					t.Errorf("Log(%g) = %g, float32(math.Log) = %g, not a near tie", x, dst[i], ref)
				}
			}
		}
		src = src[:0]
	}
	for b := uint64(1); b < 0x7f800000; b += uint64(step) {
		src = append(src, math.Float32frombits(uint32(b)))
		if len(src) == chunk {
			check()
		}
	}
	src = append(src, math.MaxFloat32, math.SmallestNonzeroFloat32, 1, 2, math.E, 0.5)
	check()
	if worst > 0.5+0x1p-20 {
		t.Errorf("Log: worst error %.9f ulp at %g, want ≤ 0.5 + 2^-20", worst, at)
	}
	t.Logf("worst %.9f ulp at %g; %d results differ from float32(math.Log)", worst, at, mismatches)
}

// TestLogSpecial: math.Log's special values, and log 1 = +0 exactly.
func TestLogSpecial(t *testing.T) { forEachImpl(t, testLogSpecial) }

func testLogSpecial(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := math.Float32frombits(1 << 31)
	in := []float32{0, negZero, -1, -inf, inf, nan, 1, -math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32, math.MaxFloat32, 1}
	// Every length puts each value in every lane, on the vector and tail
	// paths.
	for n := 1; n <= 2*len(in)+9; n++ {
		for rot := range in {
			src := make([]float32, n)
			for i := range src {
				src[i] = in[(i+rot)%len(in)]
			}
			dst, check := guarded(n, (n+rot)%4)
			Log(dst, src)
			for i, x := range src {
				want := float32(math.Log(float64(x)))
				if x == 1 {
					want = 0 // and not −0
				}
				if got := dst[i]; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
					t.Fatalf("n=%d: Log(%v) = %v, want %v", n, x, got, want)
				}
			}
			if err := check(); err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
		}
	}
}

// TestLogSlices: odd lengths, unaligned slices, guard values around dst,
// in place, the twin's bits on the AVX2 path (where the compiler does not
// fuse log32's operations), and the length check.
func TestLogSlices(t *testing.T) { forEachImpl(t, testLogSlices) }

func testLogSlices(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range vecSizes {
		for off := 0; off <= 3; off++ {
			src, cs := guarded(n, 3-off)
			for i := range src {
				src[i] = float32(math.Exp(8 * r.NormFloat64()))
			}
			src0 := append([]float32(nil), src...)
			dst, cd := guarded(n, off)
			Log(dst, src)
			for i, x := range src {
				if math.Float32bits(dst[i]) != math.Float32bits(log32(x)) && (noFMA || impl == implGo) {
					t.Fatalf("n=%d off=%d: Log(%v) = %v, log32 gives %v", n, off, x, dst[i], log32(x))
				}
				if e := logULP(x, dst[i]); e > 0.5+0x1p-20 {
					t.Fatalf("n=%d off=%d: Log(%v) = %v, %.6f ulp off", n, off, x, dst[i], e)
				}
			}
			for _, err := range []error{cs(), cd()} {
				if err != nil {
					t.Errorf("n=%d off=%d: %v", n, off, err)
				}
			}
			for i := range src {
				if math.Float32bits(src[i]) != math.Float32bits(src0[i]) {
					t.Fatalf("n=%d off=%d: Log modified src", n, off)
				}
			}
			want := append([]float32(nil), dst...)
			Log(src, src) // in place
			for i := range src {
				if math.Float32bits(src[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d off=%d: in place Log(%v) = %v, want %v", n, off, src0[i], src[i], want[i])
				}
			}
		}
	}
	mustPanic(t, "Log length mismatch", func() { Log(make([]float32, 3), make([]float32, 4)) })
	mustPanic(t, "Log length mismatch", func() { Log(make([]float32, 4), make([]float32, 3)) })
}
