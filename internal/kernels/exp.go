package kernels

import "math"

// Exp returns e**x in float32.
//
//	return float32(math.Exp(float64(x)))
//
// It uses Cody–Waite range reduction x = k·ln2 + r, |r| ≤ ln2/2, and a degree-6
// minimax polynomial for e**r (Cephes expf coefficients), then scales by 2**k.
// Accuracy is within 2 ulp of math.Exp over the float32 range; x < -87.3
// flushes to 0 (softmax never needs subnormal weights), x > 88.72 gives +Inf and
// NaN stays NaN.
func Exp(x float32) float32 {
	const (
		hi    = 88.72283905206835
		lo    = -87.33654475055310898657124730 // ln(2^-126): smallest normal
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if x != x {
		return x
	}
	if x > hi {
		return float32(math.Inf(1))
	}
	if x < lo {
		return 0
	}
	// k = round(x / ln2)
	kf := float32(math.Floor(float64(x*log2e + 0.5)))
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
	k := int32(kf)
	// y·2^k, with k in [-126, 128]; split to keep the exponent field valid.
	if k > 127 {
		return y * 2 * math.Float32frombits(uint32(k-1+127)<<23)
	}
	if k < -126 {
		return 0
	}
	return y * math.Float32frombits(uint32(k+127)<<23)
}
