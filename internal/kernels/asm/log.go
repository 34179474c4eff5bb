package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Slots (32 bytes each) of the constant table of genLog: float64 words ×4,
// then float32 words ×8. The values are log.go's.
const (
	lOff      = iota // int64 0x3ff0000000000000 − bits(√2/2): shifts the exponent
	lMant            // int64 mantissa mask
	lSqrtHalf        // int64 bits(√2/2)
	lTwo52           // int64 bits(2^52)
	lBias            // 2^52 + 1023
	lOne
	lTwo
	lHalf
	lL1
	lL2
	lL3
	lL4
	lL5
	lL6
	lL7
	lLn2Hi
	lLn2Lo
	lInf32 // float32 +Inf
	lNegInf32
	lNaN32
	nLogConst
)

var logConst Mem

func logTable() {
	logConst = GLOBL("logconst", RODATA|NOPTR)
	f := math.Float64bits
	vals := [lInf32]uint64{
		lOff:      0x3ff0000000000000 - 0x3fe6a09e667f3bcd,
		lMant:     1<<52 - 1,
		lSqrtHalf: 0x3fe6a09e667f3bcd,
		lTwo52:    f(0x1p52),
		lBias:     f(0x1p52 + 1023),
		lOne:      f(1),
		lTwo:      f(2),
		lHalf:     f(0.5),
		lL1:       f(6.666666666666735130e-01),
		lL2:       f(3.999999999940941908e-01),
		lL3:       f(2.857142874366239149e-01),
		lL4:       f(2.222219843214978396e-01),
		lL5:       f(1.818357216161805012e-01),
		lL6:       f(1.531383769920937332e-01),
		lL7:       f(1.479819860511658591e-01),
		lLn2Hi:    f(6.93147180369123816490e-01),
		lLn2Lo:    f(1.90821492927058770002e-10),
	}
	for s, v := range vals {
		for l := 0; l < 4; l++ {
			DATA(32*s+8*l, U64(v))
		}
	}
	for s, v := range [...]uint32{lInf32 - lInf32: 0x7f800000, lNegInf32 - lInf32: 0xff800000, lNaN32 - lInf32: 0x7fc00000} {
		for l := 0; l < 8; l++ {
			DATA(32*(lInf32+s)+4*l, U32(v))
		}
	}
}

// genLog writes logAVX2: dst[i] = Log(src[i]) (log.go's log32), 8 lanes at a
// time: each half widened to float64 and reduced and evaluated with log32's
// operations in the same order, each rounded once (no FMA), then rounded to
// float32; the special inputs (±0, negatives, +Inf, NaN) are blended in last.
func genLog() {
	TEXT("logAVX2", NOSPLIT, "func(dst, src []float32)")
	Pragma("noescape")
	Doc("logAVX2 sets dst[i] = Log(src[i]) for i < len(src) ≤ len(dst) (see log32).")
	if tailMask.Symbol.Name == "" {
		maskTable()
	}
	logTable()
	dp := Load(Param("dst").Base(), GP64())
	sp := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	cb := GP64()
	LEAQ(logConst, cb)
	zero := YMM()
	VXORPS(zero, zero, zero)
	vecLoop("log", n, func(i reg.GPVirtual, disp int) {
		x, y := YMM(), YMM()
		VMOVUPS(at(sp, i, disp), x)
		log8(cb, zero, x, y)
		VMOVUPS(y, at(dp, i, disp))
	}, func(i reg.GPVirtual, mk reg.VecVirtual) {
		x, y := YMM(), YMM()
		VMASKMOVPS(at(sp, i, 0), mk, x)
		log8(cb, zero, x, y)
		VMASKMOVPS(y, mk, at(dp, i, 0))
	}, nil)
}

// log8 sets y to log32 of the 8 float32 lanes of x.
func log8(cb reg.Register, zero, x, y reg.VecVirtual) {
	c := func(slot int) Mem { return Mem{Base: cb, Disp: 32 * slot} }
	lo, hi := YMM(), YMM()
	VCVTPS2PD(x.AsX(), lo)
	VEXTRACTF128(U8(1), x, hi.AsX())
	VCVTPS2PD(hi.AsX(), hi)
	log4(cb, lo)
	log4(cb, hi)
	VCVTPD2PSY(lo, y.AsX())
	VCVTPD2PSY(hi, hi.AsX())
	VINSERTF128(U8(1), hi.AsX(), y, y)
	u := YMM()
	VCMPPS(U8(0x05), c(lInf32), x, u) // NLT_UQ: +Inf or NaN gives x
	VBLENDVPS(u, x, y, y)
	VCMPPS(U8(0x00), zero, x, u) // EQ_OQ: ±0 gives −Inf
	VBLENDVPS(u, c(lNegInf32), y, y)
	VCMPPS(U8(0x01), zero, x, u) // LT_OQ: negative gives NaN
	VBLENDVPS(u, c(lNaN32), y, y)
}

// log4 replaces the 4 float64 lanes of d (positive, finite) by their
// logarithms, with log32's operations in its order.
func log4(cb reg.Register, d reg.VecVirtual) {
	c := func(slot int) Mem { return Mem{Base: cb, Disp: 32 * slot} }
	ix, k, f := YMM(), YMM(), YMM()
	VPADDQ(c(lOff), d, ix)
	VPSRLQ(U8(52), ix, k)
	VPOR(c(lTwo52), k, k)
	VSUBPD(c(lBias), k, k) // k = biased exponent − 1023, exactly
	VPAND(c(lMant), ix, f)
	VPADDQ(c(lSqrtHalf), f, f)
	VSUBPD(c(lOne), f, f) // f = m − 1, m in [√2/2, √2)
	s, t := YMM(), YMM()
	VADDPD(c(lTwo), f, t)
	VDIVPD(t, f, s) // s = f/(2+f)
	s2, s4 := YMM(), YMM()
	VMULPD(s, s, s2)
	VMULPD(s2, s2, s4)
	// t1 = s2·(L1 + s4·(L3 + s4·(L5 + s4·L7)))
	t1 := YMM()
	VMULPD(c(lL7), s4, t1)
	VADDPD(c(lL5), t1, t1)
	VMULPD(s4, t1, t1)
	VADDPD(c(lL3), t1, t1)
	VMULPD(s4, t1, t1)
	VADDPD(c(lL1), t1, t1)
	VMULPD(s2, t1, t1)
	// t2 = s4·(L2 + s4·(L4 + s4·L6))
	t2 := YMM()
	VMULPD(c(lL6), s4, t2)
	VADDPD(c(lL4), t2, t2)
	VMULPD(s4, t2, t2)
	VADDPD(c(lL2), t2, t2)
	VMULPD(s4, t2, t2)
	VADDPD(t2, t1, t1) // R
	hfsq := YMM()
	VMULPD(c(lHalf), f, hfsq)
	VMULPD(f, hfsq, hfsq)
	// k·Ln2Hi − ((hfsq − (s·(hfsq+R) + k·Ln2Lo)) − f)
	VADDPD(hfsq, t1, t1)
	VMULPD(s, t1, t1)
	VMULPD(c(lLn2Lo), k, t2)
	VADDPD(t2, t1, t1)
	VSUBPD(t1, hfsq, hfsq)
	VSUBPD(f, hfsq, hfsq)
	VMULPD(c(lLn2Hi), k, d)
	VSUBPD(hfsq, d, d)
}
