package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// exp512Steps and exp512StepsT are the zmm vectors per step of
// expShiftSumAVX512 and expShiftSumTAVX512: as many as fit while that many
// are left, then fewer (the last, one, until fewer than 16 floats are left).
var exp512Steps, exp512StepsT = []int{6, 2, 1}, []int{4, 2, 1}

// genExpShiftSum512 writes expShiftSumAVX512 (withT: expShiftSumTAVX512),
// the 16-lane version of genExpShiftSum's kernels with the same results bit
// for bit: dst[i] = Exp(src[i]−shift) (expChecked, Exp's bits), and the sum
// in the AVX2 kernels' order — 8 lanes, lane i%8 adding dst[i] for i
// increasing (each zmm of 16 adds its low 8 lanes, then its high 8; the
// lanes past the end add +0, which leaves a sum that is never −0 unchanged),
// reduced by hsum. With withT, also Σ dst[i]·max(src[i]−shift, lo) in 8
// lanes of its own in the same order.
func genExpShiftSum512(withT bool) {
	name, sig := "expShiftSumAVX512", "func(dst, src []float32, shift float32) float32"
	if withT {
		name, sig = "expShiftSumTAVX512", "func(dst, src []float32, shift float32) (sum, t float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	if withT {
		Doc(name + " is expShiftSumTAVX2 on 16 lanes, with its results bit for bit: dst[i] = Exp(src[i]-shift) for i < len(src) ≤ len(dst), their sum and Σ dst[i]·max(src[i]-shift, lo), each in 8 lanes (i%8) reduced by hsum.")
	} else {
		Doc(name + " is expShiftSumAVX2 on 16 lanes, with its results bit for bit: dst[i] = Exp(src[i]-shift) for i < len(src) ≤ len(dst), and their sum in 8 lanes (i%8) reduced by hsum.")
	}
	dp := Load(Param("dst").Base(), GP64())
	sp := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	sh := ZMM()
	VBROADCASTSS(addr("shift"), sh)
	z := newZ5(exp512Pre...)
	acc, tacc, tmp := YMM(), YMM(), YMM()
	VXORPS(acc, acc, acc)
	VXORPS(tacc, tacc, tacc)
	i := GP64()
	XORQ(i, i)
	// step: the exps of the vectors at i, i+16, … (interleaved), then their
	// sums in order. The high half of each y is added from dst, where it has
	// just been stored: a load in place of a VEXTRACTF32X8 (the kernel is
	// bound by its vector operations), the same values (dst may be src, but
	// the step has loaded all of its src before it stores).
	step := func(vecs int, label string) {
		xs, ys := make([]reg.VecVirtual, vecs), make([]reg.VecVirtual, vecs)
		var xcs []reg.VecVirtual
		for v := range vecs {
			xs[v], ys[v] = ZMM(), ZMM()
			VMOVUPS(at(sp, i, 64*v), xs[v])
			VSUBPS(sh, xs[v], xs[v])
			if withT {
				xcs = append(xcs, ZMM())
			}
		}
		z.expChecked(xs, ys, xcs, label)
		for v := range vecs {
			VMOVUPS(ys[v], at(dp, i, 64*v))
			if withT {
				prod := ZMM()
				VMULPS(xcs[v], ys[v], prod)
				addHalves(prod, tacc, tmp)
			}
			VADDPS(ys[v].AsY(), acc, acc)
			VADDPS(at(dp, i, 64*v+32), acc, acc)
		}
	}
	steps := exp512Steps
	if withT {
		steps = exp512StepsT
	}
	lim := GP64()
	for si, vecs := range steps {
		l := fmt.Sprintf("%s_s%d", name, vecs)
		if si > 0 {
			Label(l + "_entry")
		}
		MOVQ(n, lim)
		SUBQ(U8(16*vecs), lim) // i ≤ lim: a whole step left
		Label(l)
		CMPQ(i, lim)
		if si == len(steps)-1 {
			JG(LabelRef(name + "_tail"))
		} else {
			JG(LabelRef(fmt.Sprintf("%s_s%d_entry", name, steps[si+1])))
		}
		step(vecs, l)
		ADDQ(U8(16*vecs), i)
		JMP(LabelRef(l))
	}
	// The last n%16 through a lane mask: the load leaves the other lanes 0,
	// their exps (and entropy terms) are zeroed before the sums (adding +0
	// to the high half when n%16 ≤ 8 leaves the sums, never −0, as they
	// are) and not stored.
	Label(name + "_tail")
	rem := GP64()
	MOVQ(n, rem)
	SUBQ(i, rem)
	JZ(LabelRef(name + "_reduce"))
	mk := K()
	loadMask512(rem, mk)
	x, y := ZMM(), ZMM()
	VMOVUPS_Z(at(sp, i, 0), mk, x)
	VSUBPS(sh, x, x)
	var xcs []reg.VecVirtual
	if withT {
		xcs = []reg.VecVirtual{ZMM()}
	}
	z.expChecked([]reg.VecVirtual{x}, []reg.VecVirtual{y}, xcs, name+"_t")
	VMOVAPS_Z(y, mk, y)
	VMOVUPS(y, mk, at(dp, i, 0))
	if withT {
		prod := ZMM()
		VMULPS_Z(xcs[0], y, mk, prod)
		addHalves(prod, tacc, tmp)
	}
	addHalves(y, acc, tmp)
	Label(name + "_reduce")
	hsum512(acc, tmp)
	store32(acc, ReturnIndex(0))
	if withT {
		hsum512(tacc, tmp)
		store32(tacc, ReturnIndex(1))
	}
	VZEROUPPER()
	RET()
}

// store32 stores the low lane of v as a float32 result with VMOVSS (avo's
// Store uses the SSE MOVSS, which cannot address X16–X31).
func store32(v reg.VecVirtual, c gotypes.Component) {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	VMOVSS(v.AsX(), b.Addr)
}
