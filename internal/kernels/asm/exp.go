package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Slots (8 equal words each) of the constant table of expVec. The values are
// exp.go's constants rounded to float32, exactly as Go rounds them there.
const (
	cLo = iota
	cHi
	cLog2e
	cMagic
	cC1
	cC2
	cP0 // p0…p5: the polynomial, highest degree first
	cP1
	cP2
	cP3
	cP4
	cP5
	cOne
	cInf
	c127 // int32 127
	cFast
	nConst
)

var expConst Mem

// expBits are exp.go's constants (kernels/exp.go) rounded to float32 as Go
// rounds them there, by the slots of expconst; expconst512 takes the same.
var expBits = [nConst]uint32{
	cLo:    math.Float32bits(float32(-87.33654475055310898657124730)),
	cHi:    math.Float32bits(float32(88.72283905206835)),
	cLog2e: math.Float32bits(float32(1.44269504088896341)),
	cMagic: math.Float32bits(float32(0x1.8p23)),
	cC1:    math.Float32bits(float32(0.693359375)),
	cC2:    math.Float32bits(float32(-2.12194440e-4)),
	cP0:    math.Float32bits(float32(1.9875691500e-4)),
	cP1:    math.Float32bits(float32(1.3981999507e-3)),
	cP2:    math.Float32bits(float32(8.3334519073e-3)),
	cP3:    math.Float32bits(float32(4.1665795894e-2)),
	cP4:    math.Float32bits(float32(1.6666665459e-1)),
	cP5:    math.Float32bits(float32(5.0000001201e-1)),
	cOne:   math.Float32bits(1),
	cInf:   math.Float32bits(float32(math.Inf(1))),
	c127:   127,
	cFast:  math.Float32bits(fastHi),
}

func expTable() {
	expConst = GLOBL("expconst", RODATA|NOPTR)
	vals := expBits
	for s, v := range vals {
		for l := 0; l < 8; l++ {
			DATA(32*s+4*l, U32(v))
		}
	}
}

// fastHi bounds the arguments of expFast: for x ≤ fastHi, k = round(x·log2e)
// ≤ 127, so 2^k needs no split, and x is below Exp's overflow threshold.
const fastHi = 88.0

// expChecked sets y to Exp(x) as expVec does, through expFast when no lane
// is above fastHi or NaN (the usual case under softmax, where x ≤ 0), else
// through expVec; label names the branch targets.
func expChecked(cb reg.Register, x, y reg.VecVirtual, label string) {
	expCheckedN(cb, []reg.VecVirtual{x}, []reg.VecVirtual{y}, label)
}

// expCheckedN is expChecked for several streams: all of them go through
// expFastN unless a lane of one is above fastHi or NaN, when each goes
// through expVec. xs are clobbered.
func expCheckedN(cb reg.Register, xs, ys []reg.VecVirtual, label string) {
	u := YMM()
	VCMPPS(U8(0x16), Mem{Base: cb, Disp: 32 * cFast}, xs[0], u) // NLE_UQ: x > fastHi or NaN
	for _, x := range xs[1:] {
		w := YMM()
		VCMPPS(U8(0x16), Mem{Base: cb, Disp: 32 * cFast}, x, w)
		VORPS(w, u, u)
	}
	m := GP32()
	VMOVMSKPS(u, m)
	TESTL(m, m)
	JNZ(LabelRef(label + "_slow"))
	expFastN(cb, xs, ys)
	JMP(LabelRef(label + "_join"))
	Label(label + "_slow")
	for i := range xs {
		expVec(cb, xs[i], ys[i])
	}
	Label(label + "_join")
}

// expFast is expFastN for one stream.
func expFast(cb reg.Register, x, y reg.VecVirtual) {
	expFastN(cb, []reg.VecVirtual{x}, []reg.VecVirtual{y})
}

// expFastN sets ys[i] = Exp(xs[i]) for lanes that are neither NaN nor above
// fastHi: expVec's operations in the same order, less those that change
// nothing there (the clamp at hi, the 2^k split, which multiplies by 1, and
// the +Inf and NaN blends), so each lane has Exp's bits. The streams' steps
// are interleaved: each stream is one ~25-operation dependency chain, and
// the out-of-order window overlaps only a couple of them unless they are
// issued side by side. Lanes below lo get the scale +0 in place of 2^k, so
// y·scale is the +0 that masking the product gave, without ever forming a
// subnormal product (a microcode assist that made masked keys ~3× slower).
// xs are clobbered.
func expFastN(cb reg.Register, xs, ys []reg.VecVirtual) {
	c := func(slot int) Mem { return Mem{Base: cb, Disp: 32 * slot} }
	n := len(xs)
	vecs := func() []reg.VecVirtual {
		v := make([]reg.VecVirtual, n)
		for i := range v {
			v[i] = YMM()
		}
		return v
	}
	// Registers: at most three per stream at a time, plus one temporary, so
	// that four streams and two accumulators fit in the 16 ymm of AVX2 (avo
	// would otherwise take AVX-512's Y16–Y31; TestNoEVEXRegisters).
	xc, sc := vecs(), xs
	for i := range n {
		VMAXPS(c(cLo), xs[i], xc[i])
		VCMPPS(U8(0x1d), c(cLo), xs[i], sc[i]) // GE_OQ: below lo gives 0
	}
	// k = round(x·log2e) via the magic constant; kf = float32(k); the scale
	// 2^k (masked) from k's bits.
	t := vecs()
	for i := range n {
		VMULPS(c(cLog2e), xc[i], t[i])
	}
	for i := range n {
		VADDPS(c(cMagic), t[i], t[i])
	}
	for i := range n {
		u := YMM()
		VPSUBD(c(cMagic), t[i], u)
		VPADDD(c(c127), u, u)
		VPSLLD(U8(23), u, u)
		VANDPS(u, sc[i], sc[i])
	}
	kf := t
	for i := range n {
		VSUBPS(c(cMagic), t[i], kf[i])
	}
	// r = (x − kf·c1) − kf·c2
	r := vecs()
	for i := range n {
		VMULPS(c(cC1), kf[i], r[i])
		VSUBPS(r[i], xc[i], r[i])
	}
	for i := range n {
		VMULPS(c(cC2), kf[i], kf[i])
		VSUBPS(kf[i], r[i], r[i])
	}
	// p(r) in ys, then y = ((p·r² + r) + 1)·scale
	p := ys
	for i := range n {
		VMULPS(c(cP0), r[i], p[i])
	}
	for s := cP1; s <= cP5; s++ {
		for i := range n {
			if s > cP1 {
				VMULPS(r[i], p[i], p[i])
			}
			VADDPS(c(s), p[i], p[i])
		}
	}
	for i := range n {
		u := YMM()
		VMULPS(r[i], r[i], u)
		VMULPS(u, p[i], p[i])
		VADDPS(r[i], p[i], p[i])
		VADDPS(c(cOne), p[i], p[i])
		VMULPS(sc[i], p[i], p[i])
	}
}

// expReduce is the core of expVec: for the clamped argument xc it sets y =
// e**r (the polynomial, (p·r² + r) + 1) and returns k (int32 lanes) with
// e**xc = y·2^k. expFastN runs the same operations, interleaved over its
// streams and with k turned into the scale early (it keeps three registers
// per stream; returning k would keep four).
func expReduce(cb reg.Register, xc, y reg.VecVirtual) reg.VecVirtual {
	c := func(slot int) Mem { return Mem{Base: cb, Disp: 32 * slot} }
	// k = round(x·log2e) via the magic constant; kf = float32(k).
	t := YMM()
	VMULPS(c(cLog2e), xc, t)
	VADDPS(c(cMagic), t, t)
	kf := YMM()
	VSUBPS(c(cMagic), t, kf)
	k := YMM()
	VPSUBD(c(cMagic), t, k)
	// r = (x − kf·c1) − kf·c2
	r, u := YMM(), YMM()
	VMULPS(c(cC1), kf, u)
	VSUBPS(u, xc, r)
	VMULPS(c(cC2), kf, u)
	VSUBPS(u, r, r)
	// p(r), then y = (p·r² + r) + 1
	p := YMM()
	VMOVUPS(c(cP0), p)
	for s := cP1; s <= cP5; s++ {
		VMULPS(r, p, p)
		VADDPS(c(s), p, p)
	}
	VMULPS(r, r, u)
	VMULPS(u, p, y)
	VADDPS(r, y, y)
	VADDPS(c(cOne), y, y)
	return k
}

// expVec sets y to Exp(x) lane by lane with the operations of exp.go in the
// same order, each rounded once (no FMA), so each lane equals the pure-Go Exp
// compiled without FMA bit for bit. x is preserved.
func expVec(cb reg.Register, x, y reg.VecVirtual) {
	c := func(slot int) Mem { return Mem{Base: cb, Disp: 32 * slot} }
	xc := YMM()
	VMAXPS(c(cLo), x, xc)
	VMINPS(c(cHi), xc, xc)
	k := expReduce(cb, xc, y)
	u := YMM()
	// y·2^k as (y·s2)·2^min(k,127) with s2 = 2 when k = 128, else 1.
	VPMINSD(c(c127), k, u)
	VPADDD(c(c127), u, u)
	VPSLLD(U8(23), u, u)
	VPCMPGTD(c(c127), k, k)
	VANDPS(c(cOne), k, k)
	VADDPS(c(cOne), k, k)
	VMULPS(k, y, y)
	VMULPS(u, y, y)
	// x > hi: +Inf; !(x ≥ lo): 0; NaN: x.
	VCMPPS(U8(0x1e), c(cHi), x, u) // GT_OQ
	VBLENDVPS(u, c(cInf), y, y)
	VCMPPS(U8(0x1d), c(cLo), x, u) // GE_OQ
	VANDPS(u, y, y)
	VCMPPS(U8(0x03), x, x, u) // UNORD_Q
	VBLENDVPS(u, x, y, y)
}

// expUnroll and expUnrollT are the vectors per step of expShiftSumAVX2 and
// expShiftSumTAVX2 (see colUnroll): the shift and the sums take 2 and 3
// of the 16 registers.
const expUnroll, expUnrollT = 4, 3

// genExpShiftSum writes expShiftSumAVX2: dst[i] = Exp(src[i]−shift), and
// returns Σ dst[i] summed in 8 lanes (lane i%8, the tail through a mask)
// reduced by hsum. With withT it writes expShiftSumTAVX2, which also returns
// Σ dst[i]·max(src[i]−shift, lo) in 8 lanes of its own (the entropy term of
// the fused attention kernel; the clamp makes masked −Inf inputs add 0·lo).
// The caller emits the constant and mask tables once per file.
func genExpShiftSum(withT bool) {
	name, sig := "expShiftSumAVX2", "func(dst, src []float32, shift float32) float32"
	if withT {
		name, sig = "expShiftSumTAVX2", "func(dst, src []float32, shift float32) (sum, t float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	if withT {
		Doc(name + " sets dst[i] = Exp(src[i]-shift) for i < len(src) ≤ len(dst) and returns their sum and Σ dst[i]·max(src[i]-shift, lo).")
	} else {
		Doc(name + " sets dst[i] = Exp(src[i]-shift) for i < len(src) ≤ len(dst) and returns their sum.")
	}
	dp := Load(Param("dst").Base(), GP64())
	sp := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	sh := YMM()
	VBROADCASTSS(addr("shift"), sh)
	cb := GP64()
	LEAQ(expConst, cb)
	lo := Mem{Base: cb, Disp: 32 * cLo}
	acc, tacc := YMM(), YMM()
	VXORPS(acc, acc, acc)
	VXORPS(tacc, tacc, tacc)
	i := GP64()
	XORQ(i, i)
	// step: the exps of the vectors at i, i+8, … (interleaved, expCheckedN),
	// then their sums in order (lane i%8), the entropy term before the store
	// (dst may be src).
	step := func(vecs int, label string) {
		xs, ys := make([]reg.VecVirtual, vecs), make([]reg.VecVirtual, vecs)
		for v := range vecs {
			xs[v], ys[v] = YMM(), YMM()
			VMOVUPS(at(sp, i, 32*v), xs[v])
			VSUBPS(sh, xs[v], xs[v])
		}
		expCheckedN(cb, xs, ys, label)
		for v := range vecs {
			if withT {
				x := YMM() // expCheckedN clobbered xs
				VMOVUPS(at(sp, i, 32*v), x)
				VSUBPS(sh, x, x)
				VMAXPS(lo, x, x) // NaN stays NaN through y
				VMULPS(x, ys[v], x)
				VADDPS(x, tacc, tacc)
			}
			VMOVUPS(ys[v], at(dp, i, 32*v))
			VADDPS(ys[v], acc, acc)
		}
	}
	// expUnroll vectors per step (expUnrollT with the entropy term, whose
	// accumulator takes a register), then one.
	unroll := expUnroll
	if withT {
		unroll = expUnrollT
	}
	lim := GP64()
	MOVQ(n, lim)
	SUBQ(U8(8*unroll), lim) // i ≤ lim: a whole step left
	Label(name + "_loopu")
	CMPQ(i, lim)
	JG(LabelRef(name + "_loop1"))
	step(unroll, name+"_u")
	ADDQ(U8(8*unroll), i)
	JMP(LabelRef(name + "_loopu"))
	Label(name + "_loop1")
	end := GP64()
	MOVQ(n, end)
	ANDQ(I32(-8), end)
	Label(name + "_loop")
	CMPQ(i, end)
	JAE(LabelRef(name + "_tail"))
	step(1, name)
	ADDQ(U8(8), i)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_tail")
	rem := GP64()
	MOVQ(n, rem)
	SUBQ(i, rem)
	JZ(LabelRef(name + "_reduce"))
	mk := YMM()
	loadMask(rem, mk)
	x2, y2 := YMM(), YMM()
	VMASKMOVPS(at(sp, i, 0), mk, x2)
	VSUBPS(sh, x2, x2)
	expVec(cb, x2, y2)
	VANDPS(mk, y2, y2)
	VMASKMOVPS(y2, mk, at(dp, i, 0))
	VADDPS(y2, acc, acc)
	if withT {
		VMAXPS(lo, x2, x2)
		VMULPS(x2, y2, x2)
		VANDPS(mk, x2, x2)
		VADDPS(x2, tacc, tacc)
	}
	Label(name + "_reduce")
	hsum(acc, sh)
	if withT {
		Store(acc.AsX(), ReturnIndex(0))
		hsum(tacc, sh)
		Store(tacc.AsX(), ReturnIndex(1))
	} else {
		Store(acc.AsX(), ReturnIndex(0))
	}
	VZEROUPPER()
	RET()
}
