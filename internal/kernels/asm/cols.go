package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The column kernels of the fused attention kernel's online softmax: the
// logits of a key tile are stored (keys, queries), so that one ymm holds 8
// queries and a query's max and sums run down its column with no horizontal
// reduction. n (columns) is a multiple of 8 here; the Go side does the rest.

// genColMaxCount writes colMaxCountAVX2: for each column j < n of the (m, n)
// matrix s (row stride lds), mx[j] = max over rows of the non-NaN s[i][j]
// (−Inf if none; the lanes keep max(x, acc) with x first, so a NaN leaves acc
// unchanged) and cnt[j] = the number of rows whose s[i][j] ≠ −Inf.
func genColMaxCount() {
	TEXT("colMaxCountAVX2", NOSPLIT, "func(mx []float32, cnt []int32, s []float32, lds, m, n int)")
	Pragma("noescape")
	Doc("colMaxCountAVX2 sets mx[j] to the largest non-NaN s[i*lds+j] (−Inf if none) and cnt[j] to the number of i < m with s[i*lds+j] ≠ −Inf, for j < n (a multiple of 8; see ColMaxCount).")
	mxp := Load(Param("mx").Base(), GP64())
	cntp := Load(Param("cnt").Base(), GP64())
	sp := Load(Param("s").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	m := Load(Param("m"), GP64())
	n := Load(Param("n"), GP64())
	cb := GP64()
	LEAQ(expConst, cb)
	ninf := YMM()
	VXORPS(ninf, ninf, ninf)
	VSUBPS(Mem{Base: cb, Disp: 32 * cInf}, ninf, ninf) // 0 − Inf
	mv := YMM()
	VMOVQ(m, mv.AsX())
	VPBROADCASTD(mv.AsX(), mv)
	j := GP64()
	XORQ(j, j)
	Label("cmc_cols")
	CMPQ(j, n)
	JAE(LabelRef("cmc_done"))
	acc, cnt := YMM(), YMM()
	VMOVUPS(ninf, acc)
	VMOVDQU(mv, cnt)
	rp := GP64()
	LEAQ(Mem{Base: sp, Index: j, Scale: 4}, rp)
	i := GP64()
	MOVQ(m, i)
	Label("cmc_rows")
	TESTQ(i, i)
	JZ(LabelRef("cmc_store"))
	v, e := YMM(), YMM()
	VMOVUPS(Mem{Base: rp}, v)
	VMAXPS(acc, v, acc)
	VCMPPS(U8(0), ninf, v, e) // EQ_OQ: −1 in the lanes equal to −Inf
	VPADDD(e, cnt, cnt)
	ADDQ(lds, rp)
	DECQ(i)
	JMP(LabelRef("cmc_rows"))
	Label("cmc_store")
	VMOVUPS(acc, at(mxp, j, 0))
	VMOVDQU(cnt, at(cntp, j, 0))
	ADDQ(U8(8), j)
	JMP(LabelRef("cmc_cols"))
	Label("cmc_done")
	VZEROUPPER()
	RET()
}

// colUnroll is how many rows colExpShiftSum*AVX2 take per step: their exps
// are independent and interleaved (expFastN); the rows' sums still run in
// row order.
const colUnroll = 4

// genColExpShiftSum writes colExpShiftSumAVX2 (withT: colExpShiftSumTAVX2):
// for each column j < n, p[i][j] = Exp(s[i][j] − shift[j]) for i < m (expVec,
// Exp's bits), sum[j] = Σ_i p[i][j] with i increasing from 0 (one lane per
// column, so the order is the twin's), and with withT t[j] = Σ_i
// p[i][j]·max(s[i][j] − shift[j], lo) in the same order. p may be s. Rows go
// colUnroll at a time, the last m%colUnroll one by one.
func genColExpShiftSum(withT bool) {
	name := "colExpShiftSumAVX2"
	sig := "func(p []float32, ldp int, s []float32, lds, m, n int, shift, sum []float32)"
	doc := name + " sets p[i*ldp+j] = Exp(s[i*lds+j]-shift[j]) for i < m, j < n (a multiple of 8) and sum[j] = Σ_i p[i*ldp+j], i increasing (see ColExpShiftSum)."
	if withT {
		name = "colExpShiftSumTAVX2"
		sig = "func(p []float32, ldp int, s []float32, lds, m, n int, shift, sum, t []float32)"
		doc = name + " is colExpShiftSumAVX2 that also sets t[j] = Σ_i p[i*ldp+j]·max(s[i*lds+j]-shift[j], lo) (see ColExpShiftSum)."
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	ldp := Load(Param("ldp"), GP64())
	SHLQ(U8(2), ldp)
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	cb := GP64()
	LEAQ(expConst, cb)
	lo := Mem{Base: cb, Disp: 32 * cLo}
	j := GP64()
	XORQ(j, j)
	Label(name + "_cols")
	CMPQ(j, Load(Param("n"), GP64()))
	JAE(LabelRef(name + "_done"))
	sh := Mem{Base: Load(Param("shift").Base(), GP64()), Index: j, Scale: 4}
	acc, tacc := YMM(), YMM()
	VXORPS(acc, acc, acc)
	VXORPS(tacc, tacc, tacc)
	rs, rd := GP64(), GP64()
	sp := Load(Param("s").Base(), GP64())
	LEAQ(Mem{Base: sp, Index: j, Scale: 4}, rs)
	pp := Load(Param("p").Base(), GP64())
	LEAQ(Mem{Base: pp, Index: j, Scale: 4}, rd)
	i := Load(Param("m"), GP64())
	// The exps of the rows at srows (stored at prows), then their sums in
	// row order.
	step := func(srows, prows []Mem, label string) {
		xs, ys := make([]reg.VecVirtual, len(srows)), make([]reg.VecVirtual, len(srows))
		for r := range srows {
			xs[r], ys[r] = YMM(), YMM()
			VMOVUPS(srows[r], xs[r])
			VSUBPS(sh, xs[r], xs[r])
		}
		expCheckedN(cb, xs, ys, label)
		for r := range srows {
			if withT { // before the store: p may be s
				x := YMM() // expCheckedN clobbered xs
				VMOVUPS(srows[r], x)
				VSUBPS(sh, x, x)
				VMAXPS(lo, x, x) // NaN stays NaN through y
				VMULPS(x, ys[r], x)
				VADDPS(x, tacc, tacc)
			}
			VMOVUPS(ys[r], prows[r])
			VADDPS(ys[r], acc, acc)
		}
	}
	// rows is base, base+ld, base+2·ld, … (n ≤ 4): the last two from base2
	// = base+2·ld.
	rows := func(base, base2, ld reg.Register, n int) []Mem {
		m := []Mem{{Base: base}, {Base: base, Index: ld, Scale: 1}, {Base: base2}, {Base: base2, Index: ld, Scale: 1}}
		return m[:n]
	}
	Label(name + "_rows")
	CMPQ(i, U8(colUnroll))
	JB(LabelRef(name + "_tail"))
	rs2, rd2 := GP64(), GP64()
	LEAQ(Mem{Base: rs, Index: lds, Scale: 2}, rs2)
	LEAQ(Mem{Base: rd, Index: ldp, Scale: 2}, rd2)
	step(rows(rs, rs2, lds, colUnroll), rows(rd, rd2, ldp, colUnroll), name+"_u")
	LEAQ(Mem{Base: rs2, Index: lds, Scale: 2}, rs)
	LEAQ(Mem{Base: rd2, Index: ldp, Scale: 2}, rd)
	SUBQ(U8(colUnroll), i)
	JMP(LabelRef(name + "_rows"))
	Label(name + "_tail")
	TESTQ(i, i)
	JZ(LabelRef(name + "_store"))
	step(rows(rs, nil, lds, 1), rows(rd, nil, ldp, 1), name+"_t")
	ADDQ(lds, rs)
	ADDQ(ldp, rd)
	DECQ(i)
	JMP(LabelRef(name + "_tail"))
	Label(name + "_store")
	VMOVUPS(acc, at(Load(Param("sum").Base(), GP64()), j, 0))
	if withT {
		VMOVUPS(tacc, at(Load(Param("t").Base(), GP64()), j, 0))
	}
	ADDQ(U8(8), j)
	JMP(LabelRef(name + "_cols"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
