package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX-512 exps: expVec's and expFastN's operations (exp.go) on 16 lanes,
// in the same order and each rounded once, so every lane has the bits of
// the AVX2 kernels and of the pure-Go Exp compiled without FMA. Only the
// bookkeeping around the arithmetic changes: lane masks live in K registers
// (a compare writes one, a zero-masked op applies it) in place of the
// all-ones vectors that VANDPS and VBLENDVPS take, and the integer steps that
// form the scale 2^k are merged where integer arithmetic makes that exact.

// genExp512Set writes the AVX-512 exps and column softmax kernels (set
// exp512).
func genExp512Set() {
	exp512Table()
	mask512Table()
	genExpShiftSum512(false)
	genExpShiftSum512(true)
	genColMaxCount512()
	genColExpShiftSum512(false)
	genColExpShiftSum512(true)
}

// Slots (16 equal words, one zmm, each) of expconst512: expconst's values,
// plus z5Bias for the merged scale step and the constants of the column max.
const (
	z5Lo = iota
	z5Hi
	z5Log2e
	z5Magic
	z5Bias // int32 bits(magic) − 127: (bits(t) − z5Bias) << 23 is 2^k
	z5C1
	z5C2
	z5P0 // p0…p5: the polynomial, highest degree first
	z5P1
	z5P2
	z5P3
	z5P4
	z5P5
	z5One
	z5Inf
	z5I127 // int32 127
	z5Fast
	z5NegInf
	z5I1 // int32 1
	z5N
)

var expConst512, mask512 Mem

// exp512Table declares expconst512: expBits (the constants of expconst) in
// 16 lanes, plus the ones only the AVX-512 kernels use.
func exp512Table() {
	expConst512 = GLOBL("expconst512", RODATA|NOPTR)
	vals := [z5N]uint32{
		z5Lo:     expBits[cLo],
		z5Hi:     expBits[cHi],
		z5Log2e:  expBits[cLog2e],
		z5Magic:  expBits[cMagic],
		z5Bias:   expBits[cMagic] - 127,
		z5C1:     expBits[cC1],
		z5C2:     expBits[cC2],
		z5P0:     expBits[cP0],
		z5P1:     expBits[cP1],
		z5P2:     expBits[cP2],
		z5P3:     expBits[cP3],
		z5P4:     expBits[cP4],
		z5P5:     expBits[cP5],
		z5One:    expBits[cOne],
		z5Inf:    expBits[cInf],
		z5I127:   expBits[c127],
		z5Fast:   expBits[cFast],
		z5NegInf: math.Float32bits(float32(math.Inf(-1))),
		z5I1:     1,
	}
	for s, v := range vals {
		for l := 0; l < 16; l++ {
			DATA(64*s+4*l, U32(v))
		}
	}
}

// mask512Table declares mask512: 17 words, word r = 2^r − 1 (the first r of
// 16 lanes), for KMOVW.
func mask512Table() {
	mask512 = GLOBL("mask512", RODATA|NOPTR)
	for r := 0; r <= 16; r++ {
		DATA(2*r, U16(uint16(1<<r-1)))
	}
}

// loadMask512 sets k to the first rem (0…16) lanes.
func loadMask512(rem reg.Register, k reg.OpmaskVirtual) {
	base := GP64()
	LEAQ(mask512, base)
	KMOVW(Mem{Base: base, Index: rem, Scale: 2}, k)
}

// exp512Pre are the expconst512 slots that the exp kernels keep in
// registers: with each slot a memory operand the loads were the bottleneck
// (the column kernel took 1.8× as long on Zen 5); these ten leave the
// registers that four to six interleaved streams need.
var exp512Pre = []int{z5Lo, z5Log2e, z5Magic, z5Bias, z5C1, z5C2, z5P3, z5P4, z5P5, z5One}

// z5 is expconst512 in a kernel: the table's address, and the slots loaded
// once into registers (those that the loops use most; the others are
// memory operands).
type z5 struct {
	cb  reg.GPVirtual
	pre map[int]reg.VecVirtual
}

// newZ5 loads the table's address and preloads the given slots.
func newZ5(preload ...int) *z5 {
	z := &z5{cb: GP64(), pre: map[int]reg.VecVirtual{}}
	LEAQ(expConst512, z.cb)
	for _, s := range preload {
		r := ZMM()
		VMOVUPS(z.mem(s), r)
		z.pre[s] = r
	}
	return z
}

func (z *z5) mem(slot int) Mem { return Mem{Base: z.cb, Disp: 64 * slot} }

// c is slot as an operand: its register if preloaded, else its memory.
func (z *z5) c(slot int) Op {
	if r, ok := z.pre[slot]; ok {
		return r
	}
	return z.mem(slot)
}

// expChecked sets ys[i] = Exp(xs[i]) as expVec does, through expFast when no
// lane of any stream is above fastHi or NaN (the usual case under softmax,
// where x ≤ 0), else through expVec stream by stream; label names the branch
// targets. With xcs it also sets xcs[i] = max(xs[i], lo) (the entropy term's
// factor; x86 max gives lo for a NaN x). xs are clobbered.
func (z *z5) expChecked(xs, ys, xcs []reg.VecVirtual, label string) {
	// k: the lanes ≤ fastHi (LE_OQ: false for NaN) of every stream, each
	// compare masked by the previous ones; KORTESTW sets CF when all 16 are.
	k := K()
	for i, x := range xs {
		if i == 0 {
			VCMPPS(U8(0x12), z.c(z5Fast), x, k)
		} else {
			VCMPPS(U8(0x12), z.c(z5Fast), x, k, k)
		}
	}
	KORTESTW(k, k)
	JCC(LabelRef(label + "_slow"))
	z.expFast(xs, ys, xcs)
	JMP(LabelRef(label + "_join"))
	Label(label + "_slow")
	for i := range xs {
		if xcs != nil {
			VMAXPS(z.c(z5Lo), xs[i], xcs[i])
		}
		z.expVec(xs[i], ys[i])
	}
	Label(label + "_join")
}

// expFast is expFastN (exp.go) on zmm: for lanes that are neither NaN nor
// above fastHi, ys[i] = Exp(xs[i]) with expVec's operations in expFastN's
// order, each rounded as there. Lanes below lo get the scale +0 (a
// zero-masked shift) in place of 2^k, so y·scale is +0 without forming a
// subnormal. The scale's integer steps (bits(t) − bits(magic) + 127) << 23
// are one subtraction of bits(magic) − 127 and the shift: the same int32
// bits, since the sum wraps modulo 2^32 in any order. With xcs, xcs[i] keeps
// max(xs[i], lo); otherwise r takes its register. xs are clobbered.
func (z *z5) expFast(xs, ys, xcs []reg.VecVirtual) {
	n := len(xs)
	vecs := func() []reg.VecVirtual {
		v := make([]reg.VecVirtual, n)
		for i := range v {
			v[i] = ZMM()
		}
		return v
	}
	xc := xcs
	if xc == nil {
		xc = vecs()
	}
	for i := range n {
		VMAXPS(z.c(z5Lo), xs[i], xc[i])
	}
	// k = round(x·log2e) via the magic constant; the scale 2^k (masked:
	// +0 where !(x ≥ lo)) from t's bits, into x's register; kf = float32(k).
	t := vecs()
	for i := range n {
		VMULPS(z.c(z5Log2e), xc[i], t[i])
	}
	for i := range n {
		VADDPS(z.c(z5Magic), t[i], t[i])
	}
	sc := xs
	for i := range n {
		k := K()
		VCMPPS(U8(0x1d), z.c(z5Lo), xs[i], k) // GE_OQ
		VPSUBD(z.c(z5Bias), t[i], sc[i])
		VPSLLD_Z(U8(23), sc[i], k, sc[i])
	}
	kf := t
	for i := range n {
		VSUBPS(z.c(z5Magic), t[i], kf[i])
	}
	// r = (x − kf·c1) − kf·c2
	r := xc
	if xcs != nil {
		r = vecs()
	}
	for i := range n {
		u := ZMM()
		VMULPS(z.c(z5C1), kf[i], u)
		VSUBPS(u, xc[i], r[i])
	}
	for i := range n {
		VMULPS(z.c(z5C2), kf[i], kf[i])
		VSUBPS(kf[i], r[i], r[i])
	}
	// p(r) in ys, then y = ((p·r² + r) + 1)·scale
	p := ys
	for i := range n {
		VMULPS(z.c(z5P0), r[i], p[i])
	}
	for s := z5P1; s <= z5P5; s++ {
		for i := range n {
			if s > z5P1 {
				VMULPS(r[i], p[i], p[i])
			}
			VADDPS(z.c(s), p[i], p[i])
		}
	}
	for i := range n {
		u := ZMM()
		VMULPS(r[i], r[i], u)
		VMULPS(u, p[i], p[i])
		VADDPS(r[i], p[i], p[i])
		VADDPS(z.c(z5One), p[i], p[i])
		VMULPS(sc[i], p[i], p[i])
	}
}

// expVec is expVec (exp.go) on zmm: y = Exp(x) lane by lane, Exp's
// operations in its order, each rounded once. The blends become masked
// moves: y·2 where k = 128 is y+y (merge-masked; the same exact 2y, and
// AVX2's y·1 elsewhere leaves y), +Inf above hi, +0 where !(x ≥ lo), x where
// x is NaN. x is preserved.
func (z *z5) expVec(x, y reg.VecVirtual) {
	c := z.c
	xc := ZMM()
	VMAXPS(c(z5Lo), x, xc)
	VMINPS(c(z5Hi), xc, xc)
	// k = round(x·log2e) via the magic constant; kf = float32(k).
	t := ZMM()
	VMULPS(c(z5Log2e), xc, t)
	VADDPS(c(z5Magic), t, t)
	kf := ZMM()
	VSUBPS(c(z5Magic), t, kf)
	k := t
	VPSUBD(c(z5Magic), t, k)
	// r = (x − kf·c1) − kf·c2
	r, u := ZMM(), ZMM()
	VMULPS(c(z5C1), kf, u)
	VSUBPS(u, xc, r)
	VMULPS(c(z5C2), kf, u)
	VSUBPS(u, r, r)
	// p(r), then y = (p·r² + r) + 1
	p := kf
	VMOVUPS(c(z5P0), p)
	for s := z5P1; s <= z5P5; s++ {
		VMULPS(r, p, p)
		VADDPS(c(s), p, p)
	}
	VMULPS(r, r, u)
	VMULPS(u, p, y)
	VADDPS(r, y, y)
	VADDPS(c(z5One), y, y)
	// y·2^k as (y·s2)·2^min(k,127) with s2 = 2 when k = 128, else 1.
	VPMINSD(c(z5I127), k, u)
	VPADDD(c(z5I127), u, u)
	VPSLLD(U8(23), u, u)
	m := K()
	VPCMPGTD(c(z5I127), k, m)
	VADDPS(y, y, m, y)
	VMULPS(u, y, y)
	// x > hi: +Inf; !(x ≥ lo): 0; NaN: x.
	VCMPPS(U8(0x1e), c(z5Hi), x, m) // GT_OQ
	VMOVUPS(c(z5Inf), m, y)
	VCMPPS(U8(0x1d), c(z5Lo), x, m) // GE_OQ
	VMOVAPS_Z(y, m, y)
	VCMPPS(U8(0x03), x, x, m) // UNORD_Q
	VMOVAPS(x, m, y)
}

// addHalves adds the low 8 lanes of the zmm y, then its high 8, to the
// 8-lane acc: lane l takes y's element l, then element 8+l, the order in
// which the AVX2 kernels add two consecutive ymm vectors. tmp is clobbered.
func addHalves(y, acc, tmp reg.VecVirtual) {
	VADDPS(y.AsY(), acc, acc)
	VEXTRACTF32X8(U8(1), y, tmp)
	VADDPS(tmp, acc, acc)
}

// hsum512 is hsum (main.go) in EVEX-encodable instructions (avo may place
// acc and tmp in Y16–Y31, which VEXTRACTF128 cannot address): the 8 lanes
// l0…l7 of acc reduced into its low lane as ((l0+l4)+(l2+l6)) +
// ((l1+l5)+(l3+l7)), each add with hsum's operands.
func hsum512(acc, tmp reg.VecVirtual) {
	VEXTRACTF32X4(U8(1), acc, tmp.AsX())
	VADDPS(tmp.AsX(), acc.AsX(), acc.AsX()) // h_i = l_i + l_{i+4}
	VPERMILPS(U8(0x0e), acc.AsX(), tmp.AsX())
	VADDPS(tmp.AsX(), acc.AsX(), acc.AsX()) // g0 = h0+h2, g1 = h1+h3
	VPERMILPS(U8(0x01), acc.AsX(), tmp.AsX())
	VADDSS(tmp.AsX(), acc.AsX(), acc.AsX()) // g0 + g1
}
