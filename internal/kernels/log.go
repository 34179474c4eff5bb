package kernels

import "math"

// Log sets dst[i] = ln src[i] for every i:
//
//	for i, x := range src { dst[i] = float32(math.Log(float64(x))) }
//
// dst may be src (in place); it panics if the lengths differ. Each value is
// log32's: the logarithm evaluated in float64 (the reduction and polynomial
// of Go's pure-Go math.log, accurate to about 1 float64 ulp) and rounded once
// to float32, so it is within 0.5 float32 ulp of the exact logarithm but
// for a relative error near 2^-52, and equals float32(math.Log(float64(x)))
// except where the exact value lies that close to a float32 rounding
// boundary (see log_test.go). Special values are math.Log's: Log(+Inf) =
// +Inf, Log(±0) = −Inf, Log(x < 0) = NaN, Log(NaN) = NaN. The AVX2 path
// repeats log32's operations in the same order, each rounded once (no FMA),
// so each lane has log32's bits where log32 is compiled without FMA (amd64
// below v3).
func Log(dst, src []float32) {
	if len(dst) != len(src) {
		panic("kernels.Log: length mismatch")
	}
	if impl.simd() {
		logAVX2(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = log32(x)
	}
}

// log32 is the pure-Go twin of one lane of Log. x = 2^k·m with m in
// [√2/2, √2) (the exponent shifted by adding 1 − bits(√2/2) to the float64
// bits), f = m − 1, s = f/(2+f), and ln m = f − hfsq + s·(hfsq + R(s²)) as in
// math.log.
func log32(x float32) float32 {
	const (
		ln2Hi = 6.93147180369123816490e-01 /* 3fe62e42 fee00000 */
		ln2Lo = 1.90821492927058770002e-10 /* 3dea39ef 35793c76 */
		l1    = 6.666666666666735130e-01   /* 3FE55555 55555593 */
		l2    = 3.999999999940941908e-01   /* 3FD99999 9997FA04 */
		l3    = 2.857142874366239149e-01   /* 3FD24924 94229359 */
		l4    = 2.222219843214978396e-01   /* 3FCC71C5 1D8E78AF */
		l5    = 1.818357216161805012e-01   /* 3FC74664 96CB03DE */
		l6    = 1.531383769920937332e-01   /* 3FC39A09 D078C69F */
		l7    = 1.479819860511658591e-01   /* 3FC2F112 DF3E5244 */
		// sqrtHalf is the float64 bits of √2/2.
		sqrtHalf = 0x3fe6a09e667f3bcd
	)
	switch {
	case x != x || x > math.MaxFloat32:
		return x
	case x < 0:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	}
	ix := math.Float64bits(float64(x)) + (0x3ff0000000000000 - sqrtHalf)
	k := float64(ix>>52) - 1023
	f := math.Float64frombits(ix&(1<<52-1)+sqrtHalf) - 1
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := s2 * (l1 + s4*(l3+s4*(l5+s4*l7)))
	t2 := s4 * (l2 + s4*(l4+s4*l6))
	r := t1 + t2
	hfsq := 0.5 * f * f
	return float32(k*ln2Hi - ((hfsq - (s*(hfsq+r) + k*ln2Lo)) - f))
}
