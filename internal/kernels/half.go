package kernels

import "math"

// F16ToF32 converts an IEEE 754 binary16 value to float32 exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// F32ToF16 converts float32 to binary16 with round-to-nearest-even, as
// PyTorch's x.half() does. Values beyond the float16 range become ±Inf;
// NaN stays NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero in half precision.
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to Inf: correct RNE
	}
	return sign | uint16(half)
}

// BF16ToF32 converts a bfloat16 value to float32 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts float32 to bfloat16 with round-to-nearest-even, as
// PyTorch's x.bfloat16() does. NaN stays a quiet NaN.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// F16SliceToF32 converts src to dst (len(dst) must equal len(src)):
//
//	for i, h := range src {
//		dst[i] = F16ToF32(h)
//	}
//
// The AVX2 path (F16C VCVTPH2PS, 8 values at a time) gives the same bits:
// subnormals are widened exactly and a signalling NaN keeps its payload
// (VCVTPH2PS sets the quiet bit; the kernel clears it again).
func F16SliceToF32(dst []float32, src []uint16) {
	if len(dst) != len(src) {
		panic("kernels.F16SliceToF32: length mismatch")
	}
	i := 0
	if impl.simd() && len(dst) >= 8 {
		widenF16AVX2(dst, src)
		i = len(dst) &^ 7
	}
	for ; i < len(src); i++ {
		dst[i] = F16ToF32(src[i])
	}
}

// BF16SliceToF32 converts src to dst (len(dst) must equal len(src)):
//
//	for i, h := range src {
//		dst[i] = BF16ToF32(h)
//	}
//
// The AVX2 path (zero-extend and shift, 8 values at a time) gives the same
// bits.
func BF16SliceToF32(dst []float32, src []uint16) {
	if len(dst) != len(src) {
		panic("kernels.BF16SliceToF32: length mismatch")
	}
	i := 0
	if impl.simd() && len(dst) >= 8 {
		widenBF16AVX2(dst, src)
		i = len(dst) &^ 7
	}
	for ; i < len(src); i++ {
		dst[i] = BF16ToF32(src[i])
	}
}
