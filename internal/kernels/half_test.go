package kernels

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Independent references, computed from the values with float64 arithmetic
// rather than by moving bit fields.

// refF16Value is the value of binary16 bits h, and whether it is a NaN.
func refF16Value(h uint16) (float64, bool) {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	switch {
	case e == 0x1f && m != 0:
		return 0, true
	case e == 0x1f:
		return math.Inf(int(sign)), false
	case e == 0:
		return sign * m * 0x1p-24, false // keeps the sign of zero
	}
	return sign * (1 + m/1024) * math.Ldexp(1, e-15), false
}

// refRound rounds |v| (finite, float64 holding a float32) to the nearest
// multiple of the format's quantum, ties to even. A format has p fraction
// bits and minimum normal exponent emin; values of 2**(emax+1) or more are
// infinite. It returns the rounded magnitude.
func refRound(a float64, p, emin int) float64 {
	if a == 0 {
		return 0
	}
	_, e := math.Frexp(a) // a = f·2^e, f in [0.5, 1): a in [2^(e-1), 2^e)
	q := math.Ldexp(1, max(e-1, emin)-p)
	return math.RoundToEven(a/q) * q // a/q and the product are exact
}

// refEncode returns the bits of the finite or infinite magnitude v in a
// format with p fraction bits and exponent bias bias (v must be representable
// or ≥ 2**(bias+1), which encodes as infinity).
func refEncode(v float64, p, bias int) uint32 {
	emax := bias
	if v >= math.Ldexp(1, emax+1) {
		return uint32(2*bias+1) << p // infinity
	}
	if v < math.Ldexp(1, 1-bias) { // subnormal (or zero): count of quanta
		return uint32(v / math.Ldexp(1, 1-bias-p))
	}
	_, e := math.Frexp(v)
	e--
	frac := v/math.Ldexp(1, e) - 1
	return uint32(e+bias)<<p | uint32(frac*math.Ldexp(1, p))
}

func refF32ToF16(f float32) (uint16, bool) {
	if f != f {
		return 0, true
	}
	a := math.Abs(float64(f))
	s := uint16(0)
	if math.Signbit(float64(f)) {
		s = 0x8000
	}
	if math.IsInf(a, 0) {
		return s | 0x7c00, false
	}
	return s | uint16(refEncode(refRound(a, 10, -14), 10, 15)), false
}

func refF32ToBF16(f float32) (uint16, bool) {
	if f != f {
		return 0, true
	}
	a := math.Abs(float64(f))
	s := uint16(0)
	if math.Signbit(float64(f)) {
		s = 0x8000
	}
	if math.IsInf(a, 0) {
		return s | 0x7f80, false
	}
	return s | uint16(refEncode(refRound(a, 7, -126), 7, 127)), false
}

func isNaN16(h uint16) bool   { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }
func isNaNBF16(h uint16) bool { return h&0x7f80 == 0x7f80 && h&0x7f != 0 }

func TestF16ToF32Exhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got := F16ToF32(h)
		want, nan := refF16Value(h)
		if nan {
			// NaN: sign and payload are kept (as torch does).
			if got == got || math.Float32bits(got)>>31 != uint32(h>>15) || math.Float32bits(got)>>13&0x3ff != uint32(h&0x3ff) {
				t.Fatalf("F16ToF32(%#04x) = %#08x, want NaN with the same sign and payload", h, math.Float32bits(got))
			}
			continue
		}
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, got, want)
		}
		// Every half survives the round trip.
		if back := F32ToF16(got); back != h {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, back)
		}
	}
}

func TestBF16ToF32Exhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got := BF16ToF32(h)
		if isNaNBF16(h) {
			if got == got {
				t.Fatalf("BF16ToF32(%#04x) = %v, want NaN", h, got)
			}
			continue
		}
		// Value: sign·(1+m/128)·2^(e-127), or m·2^-133 when e = 0.
		e, m := int(h>>7)&0xff, float64(h&0x7f)
		want := m * 0x1p-133
		switch {
		case e == 0xff:
			want = math.Inf(1)
		case e > 0:
			want = (1 + m/128) * math.Ldexp(1, e-127)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if math.Float32bits(got) != math.Float32bits(float32(want)) {
			t.Fatalf("BF16ToF32(%#04x) = %v, want %v", h, got, want)
		}
		if back := F32ToBF16(got); back != h {
			t.Fatalf("F32ToBF16(BF16ToF32(%#04x)) = %#04x", h, back)
		}
	}
}

// roundingErr compares F32ToF16 and F32ToBF16 with the references on f.
func roundingErr(f float32) error {
	if want, nan := refF32ToF16(f); nan != isNaN16(F32ToF16(f)) || !nan && F32ToF16(f) != want {
		return fmt.Errorf("F32ToF16(%v = %#08x) = %#04x, want %#04x (NaN %v)", f, math.Float32bits(f), F32ToF16(f), want, nan)
	}
	if want, nan := refF32ToBF16(f); nan != isNaNBF16(F32ToBF16(f)) || !nan && F32ToBF16(f) != want {
		return fmt.Errorf("F32ToBF16(%v = %#08x) = %#04x, want %#04x (NaN %v)", f, math.Float32bits(f), F32ToBF16(f), want, nan)
	}
	return nil
}

func checkRounding(t *testing.T, f float32) {
	t.Helper()
	if err := roundingErr(f); err != nil {
		t.Fatal(err)
	}
}

func TestF32ToHalfReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	// Random bit patterns cover every exponent, NaN payloads included.
	for range n {
		checkRounding(t, math.Float32frombits(r.Uint32()))
	}
	// Every float32 bit pattern around each float16 binade edge and every
	// 0x1000-th low mantissa pattern (the float16 ties) in the half range.
	for e := uint32(100); e <= 144; e++ {
		for m := uint32(0); m < 1<<23; m += 0x1000 {
			for d := uint32(0); d < 3; d++ {
				b := e<<23 | (m+d-1)&0x7fffff
				checkRounding(t, math.Float32frombits(b))
				checkRounding(t, math.Float32frombits(b|1<<31))
			}
		}
	}
}

// TestF32ToHalfExhaustive compares both roundings with the references on all
// 2**32 float32 bit patterns; run with -kernels.exhaustive.
func TestF32ToHalfExhaustive(t *testing.T) {
	if !*exhaustive {
		t.Skip("needs -kernels.exhaustive")
	}
	var wg sync.WaitGroup
	const parts = 256
	for i := range uint64(parts) {
		wg.Go(func() {
			for b := i << 24; b < (i+1)<<24; b++ {
				if err := roundingErr(math.Float32frombits(uint32(b))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// half_rounding.json holds torch's .half() and .bfloat16() of 5370 float32
// values (testdata/gen/kernels.py): random normals of many scales, exact ties
// of both formats, the float16 subnormal range, overflow thresholds, zeros,
// infinities and NaNs.
func TestF32ToHalfTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "kernels", "half_rounding.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		F32  []uint32 `json:"f32"`
		F16  []uint16 `json:"f16"`
		BF16 []uint16 `json:"bf16"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.F32) < 5000 || len(fx.F16) != len(fx.F32) || len(fx.BF16) != len(fx.F32) {
		t.Fatalf("fixture has %d/%d/%d values", len(fx.F32), len(fx.F16), len(fx.BF16))
	}
	var nans, ties int
	for i, b := range fx.F32 {
		f := math.Float32frombits(b)
		h, bf := F32ToF16(f), F32ToBF16(f)
		if f != f {
			nans++
			if !isNaN16(h) || !isNaN16(fx.F16[i]) || !isNaNBF16(bf) || !isNaNBF16(fx.BF16[i]) {
				t.Errorf("NaN %#08x: F32ToF16 %#04x (torch %#04x), F32ToBF16 %#04x (torch %#04x)", b, h, fx.F16[i], bf, fx.BF16[i])
			}
			continue
		}
		if b&0xffff == 0x8000 {
			ties++
		}
		if h != fx.F16[i] {
			t.Errorf("F32ToF16(%v = %#08x) = %#04x, torch %#04x", f, b, h, fx.F16[i])
		}
		if bf != fx.BF16[i] {
			t.Errorf("F32ToBF16(%v = %#08x) = %#04x, torch %#04x", f, b, bf, fx.BF16[i])
		}
	}
	if nans == 0 || ties == 0 {
		t.Errorf("fixture lacks NaNs (%d) or bf16 ties (%d)", nans, ties)
	}
}

func TestHalfSlices(t *testing.T) {
	src := []uint16{0x3c00, 0xc000, 0x7c00, 0x0001}
	dst, check := guarded(len(src), 2)
	F16SliceToF32(dst, src)
	if want := []float32{1, -2, float32(math.Inf(1)), 0x1p-24}; sameBits(dst, want) >= 0 {
		t.Errorf("F16SliceToF32 = %v, want %v", dst, want)
	}
	if err := check(); err != nil {
		t.Error(err)
	}
	bsrc := []uint16{0x3f80, 0xc000, 0xff80, 0x0001}
	dst, check = guarded(len(bsrc), 1)
	BF16SliceToF32(dst, bsrc)
	if want := []float32{1, -2, float32(math.Inf(-1)), 0x1p-133}; sameBits(dst, want) >= 0 {
		t.Errorf("BF16SliceToF32 = %v, want %v", dst, want)
	}
	if err := check(); err != nil {
		t.Error(err)
	}
	mustPanic(t, "F16SliceToF32 length mismatch", func() { F16SliceToF32(make([]float32, 3), make([]uint16, 4)) })
	mustPanic(t, "BF16SliceToF32 length mismatch", func() { BF16SliceToF32(make([]float32, 4), make([]uint16, 3)) })
}
