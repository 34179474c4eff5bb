package kernels

import "math"

// Exp returns e**x in float32.
//
//	return float32(math.Exp(float64(x)))
//
// It uses Cody–Waite range reduction x = k·ln2 + r, |r| ≤ ln2/2, and a degree-6
// minimax polynomial for e**r (Cephes expf coefficients), then scales by 2**k.
// Accuracy is within 1 ulp of math.Exp for x in [-87.33, 88.72] (measured
// max 0.95 ulp, see exp_test.go); x < -87.3365 (= ln 2**-126, where results
// would be subnormal) flushes to 0, as softmax never needs subnormal weights;
// x > 88.7228 (= ln MaxFloat32) gives +Inf; NaN stays NaN.
func Exp(x float32) float32 {
	const (
		hi    = 88.72283905206835
		lo    = -87.33654475055310898657124730 // ln(2^-126): smallest normal
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
		magic = 0x1.8p23 // 1.5·2^23: float32 sums in [2^23, 2^24) are integers
	)
	if !(x >= lo) { // x < lo, or NaN
		if x != x {
			return x
		}
		return 0
	}
	if x > hi {
		return float32(math.Inf(1))
	}
	// k = round(x / ln2). Adding magic rounds x·log2e to an integer (ties to
	// even) and leaves k in the low mantissa bits of t; this replaces the
	// float64 math.Floor(x·log2e + 0.5) of earlier versions, for the same
	// accuracy, since any integer k within 1/2 of x/ln2 keeps |r| ≤ ln2/2.
	t := x*log2e + magic
	kf := t - magic
	k := int32(math.Float32bits(t)) - int32(math.Float32bits(magic))
	r := x - kf*c1
	r -= kf * c2
	r2 := r * r
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r2 + r + 1
	// y·2^k with k in [-126, 128]; for k = 128 split the scale so that the
	// exponent field stays valid (the product may round to +Inf, correctly).
	if k > 127 {
		return y * 2 * math.Float32frombits(uint32(k-1+127)<<23)
	}
	return y * math.Float32frombits(uint32(k+127)<<23)
}

// ExpShiftSum sets dst[i] = Exp(src[i] - shift) for every i and returns
// Σ dst[i]:
//
//	for i, x := range src { dst[i] = Exp(x - shift); s += dst[i] }
//
// dst may be src (in place); it panics if the lengths differ. -Inf inputs
// give exactly 0 (softmax's masked keys). Each dst[i] is Exp's value (bit for
// bit where Exp is compiled without FMA, as on amd64 below v3: the AVX2 path
// repeats Exp's operations in the same order). The twin sums left to right;
// the SIMD paths sum in 8 lanes (lane i%8, i increasing) reduced as Dot's
// lanes are: the AVX-512 path adds each zmm's low 8 lanes, then its high 8,
// so both SIMD paths give the same bits.
func ExpShiftSum(dst, src []float32, shift float32) float32 {
	if len(dst) != len(src) {
		panic("kernels.ExpShiftSum: length mismatch")
	}
	if impl == implAVX512 {
		return expShiftSumAVX512(dst, src, shift)
	} else if impl.simd() {
		return expShiftSumAVX2(dst, src, shift)
	}
	return expShiftSumGo(dst, src, shift)
}

// expShiftSumGo is the pure-Go twin of ExpShiftSum.
func expShiftSumGo(dst, src []float32, shift float32) float32 {
	dst = dst[:len(src)]
	var s float32
	for i, x := range src {
		e := Exp(x - shift)
		dst[i] = e
		s += e
	}
	return s
}

// expLo is the smallest argument Exp does not flush to 0 (ln 2^-126).
const expLo = float32(-87.33654475055310898657124730)

// ExpShiftSumT is ExpShiftSum that also returns the entropy accumulator of
// the fused attention kernel, in the same pass:
//
//	for i, x := range src {
//		e := Exp(x - shift); dst[i] = e; sum += e
//		t += e * max(x-shift, lo)   // lo = ln 2^-126: a masked −Inf key adds 0·lo = 0
//	}
//
// The clamp changes nothing where e ≠ 0 (Exp flushes arguments below lo to
// 0); a NaN argument keeps t NaN. The twin sums left to right; the SIMD
// paths in 8 lanes like ExpShiftSum.
func ExpShiftSumT(dst, src []float32, shift float32) (sum, t float32) {
	if len(dst) != len(src) {
		panic("kernels.ExpShiftSumT: length mismatch")
	}
	if impl == implAVX512 {
		return expShiftSumTAVX512(dst, src, shift)
	} else if impl.simd() {
		return expShiftSumTAVX2(dst, src, shift)
	}
	return expShiftSumTGo(dst, src, shift)
}

// expShiftSumTGo is the pure-Go twin of ExpShiftSumT.
func expShiftSumTGo(dst, src []float32, shift float32) (sum, t float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		d := x - shift
		e := Exp(d)
		dst[i] = e
		sum += e
		if d < expLo {
			d = expLo
		}
		t += e * d
	}
	return sum, t
}
