package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The AVX-512 column kernels (cols.go's, 16 columns per zmm): each column
// keeps one lane, so its max, count and sums run down the rows in the same
// order as on the AVX2 path and in the twins, and give the same bits. A last
// group of n%16 columns (8 under the Go side's multiple of 8) goes through a
// lane mask: zero-masked loads, masked stores.

// col512Steps and col512StepsT are the rows per step of
// colExpShiftSumAVX512 and colExpShiftSumTAVX512: as many as fit while that
// many are left, then fewer. A step's exps are interleaved (expFast); its
// rows' sums still run in row order. (Four rows of 16 lanes keep the vector
// units busy; more gave nothing on Zen 5 and leave fewer registers for
// constants.)
var col512Steps, col512StepsT = []int{4, 2, 1}, []int{4, 2, 1}

// colMax512Groups is how many zmm of columns colMaxCountAVX512 takes down
// the rows at once (independent chains; then one zmm, then the masked rest).
const colMax512Groups = 4

// genColMaxCount512 writes colMaxCountAVX512: genColMaxCount's kernel on 16
// lanes, with its results (each lane keeps max(x, acc) with x first, so a
// NaN leaves acc unchanged; a lane equal to −Inf takes 1 off the count m).
func genColMaxCount512() {
	TEXT("colMaxCountAVX512", NOSPLIT, "func(mx []float32, cnt []int32, s []float32, lds, m, n int)")
	Pragma("noescape")
	Doc("colMaxCountAVX512 is colMaxCountAVX2 on 16 lanes, with its results: mx[j] is the largest non-NaN s[i*lds+j] (−Inf if none) and cnt[j] the number of i < m with s[i*lds+j] ≠ −Inf, for j < n (a multiple of 8; see ColMaxCount).")
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	m := GP64()
	Load(Param("m"), m)
	cb := GP64()
	LEAQ(expConst512, cb)
	ninf, one, mv := ZMM(), ZMM(), ZMM()
	VMOVUPS(Mem{Base: cb, Disp: 64 * z5NegInf}, ninf)
	VMOVUPS(Mem{Base: cb, Disp: 64 * z5I1}, one)
	VPBROADCASTD(m.As32(), mv)
	j := GP64()
	XORQ(j, j)
	// block: the columns j … j+16·groups−1 (the last zmm through mask if
	// not nil) down all rows.
	block := func(groups int, mask reg.OpmaskVirtual, label string) {
		acc, cnt := make([]reg.VecVirtual, groups), make([]reg.VecVirtual, groups)
		for g := range groups {
			acc[g], cnt[g] = ZMM(), ZMM()
			VMOVAPS(ninf, acc[g])
			VMOVDQA32(mv, cnt[g])
		}
		rp := GP64()
		LEAQ(Mem{Base: Load(Param("s").Base(), GP64()), Index: j, Scale: 4}, rp)
		i := GP64()
		MOVQ(m, i)
		Label(label + "_rows")
		TESTQ(i, i)
		JZ(LabelRef(label + "_store"))
		for g := range groups {
			v, e := ZMM(), K()
			if mask != nil && g == groups-1 {
				VMOVUPS_Z(Mem{Base: rp, Disp: 64 * g}, mask, v)
			} else {
				VMOVUPS(Mem{Base: rp, Disp: 64 * g}, v)
			}
			VMAXPS(acc[g], v, acc[g])
			VCMPPS(U8(0), ninf, v, e) // EQ_OQ: the lanes equal to −Inf
			VPSUBD(one, cnt[g], e, cnt[g])
		}
		ADDQ(lds, rp)
		DECQ(i)
		JMP(LabelRef(label + "_rows"))
		Label(label + "_store")
		mxp := Load(Param("mx").Base(), GP64())
		cntp := Load(Param("cnt").Base(), GP64())
		for g := range groups {
			if mask != nil && g == groups-1 {
				VMOVUPS(acc[g], mask, at(mxp, j, 64*g))
				VMOVDQU32(cnt[g], mask, at(cntp, j, 64*g))
			} else {
				VMOVUPS(acc[g], at(mxp, j, 64*g))
				VMOVDQU32(cnt[g], at(cntp, j, 64*g))
			}
		}
	}
	left := GP64()
	Label("cmc5_cols4")
	Load(Param("n"), left)
	SUBQ(j, left)
	CMPQ(left, U8(16*colMax512Groups))
	JB(LabelRef("cmc5_cols1"))
	block(colMax512Groups, nil, "cmc5_b4")
	ADDQ(U8(16*colMax512Groups), j)
	JMP(LabelRef("cmc5_cols4"))
	Label("cmc5_cols1")
	Load(Param("n"), left)
	SUBQ(j, left)
	CMPQ(left, U8(16))
	JB(LabelRef("cmc5_last"))
	block(1, nil, "cmc5_b1")
	ADDQ(U8(16), j)
	JMP(LabelRef("cmc5_cols1"))
	Label("cmc5_last")
	TESTQ(left, left)
	JZ(LabelRef("cmc5_done"))
	mk := K()
	loadMask512(left, mk)
	block(1, mk, "cmc5_bm")
	Label("cmc5_done")
	VZEROUPPER()
	RET()
}

// genColExpShiftSum512 writes colExpShiftSumAVX512 (withT:
// colExpShiftSumTAVX512), genColExpShiftSum's kernels on 16 lanes with
// their results bit for bit: p[i][j] = Exp(s[i][j] − shift[j]) (expChecked,
// Exp's bits), sum[j] = Σ_i p[i][j] with i increasing from 0 in column j's
// lane, and with withT t[j] = Σ_i p[i][j]·max(s[i][j] − shift[j], lo) in the
// same order (the factor is the max that the exp takes anyway, the same
// operation on the same operands as the AVX2 kernel's). p may be s: a step
// loads all its rows before it stores any.
func genColExpShiftSum512(withT bool) {
	name := "colExpShiftSumAVX512"
	sig := "func(p []float32, ldp int, s []float32, lds, m, n int, shift, sum []float32)"
	doc := name + " is colExpShiftSumAVX2 on 16 lanes, with its results bit for bit: p[i*ldp+j] = Exp(s[i*lds+j]-shift[j]) for i < m, j < n (a multiple of 8) and sum[j] = Σ_i p[i*ldp+j], i increasing (see ColExpShiftSum)."
	steps := col512Steps
	if withT {
		name = "colExpShiftSumTAVX512"
		sig = "func(p []float32, ldp int, s []float32, lds, m, n int, shift, sum, t []float32)"
		doc = name + " is colExpShiftSumTAVX2 on 16 lanes, with its results bit for bit: colExpShiftSumAVX512 that also sets t[j] = Σ_i p[i*ldp+j]·max(s[i*lds+j]-shift[j], lo) (see ColExpShiftSum)."
		steps = col512StepsT
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	c := colCtx{withT: withT, steps: steps, name: name}
	c.ldp, c.lds = GP64(), GP64()
	Load(Param("ldp"), c.ldp)
	SHLQ(U8(2), c.ldp)
	Load(Param("lds"), c.lds)
	SHLQ(U8(2), c.lds)
	if steps[0] >= 3 { // rowAddrs takes row 3 at 3·ld
		c.ldp3, c.lds3 = GP64(), GP64()
		LEAQ(Mem{Base: c.ldp, Index: c.ldp, Scale: 2}, c.ldp3)
		LEAQ(Mem{Base: c.lds, Index: c.lds, Scale: 2}, c.lds3)
	}
	c.z = newZ5(exp512Pre...)
	c.j = GP64()
	XORQ(c.j, c.j)
	left := GP64()
	Label(name + "_cols")
	Load(Param("n"), left)
	SUBQ(c.j, left)
	CMPQ(left, U8(16))
	JB(LabelRef(name + "_last"))
	c.group(nil, name+"_f")
	ADDQ(U8(16), c.j)
	JMP(LabelRef(name + "_cols"))
	Label(name + "_last")
	TESTQ(left, left)
	JZ(LabelRef(name + "_done"))
	mk := K()
	loadMask512(left, mk)
	c.group(mk, name+"_m")
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// colCtx is the state of one colExpShiftSum*AVX512 being generated.
type colCtx struct {
	withT                bool
	steps                []int
	name                 string
	z                    *z5
	j                    reg.GPVirtual // the group's first column
	ldp, lds, ldp3, lds3 reg.GPVirtual // row strides in bytes, and 3×
}

// group emits the columns j … j+15 (through mask if not nil) down all rows.
func (c *colCtx) group(mask reg.OpmaskVirtual, label string) {
	load := func(m Mem, dst reg.VecVirtual) {
		if mask != nil {
			VMOVUPS_Z(m, mask, dst)
		} else {
			VMOVUPS(m, dst)
		}
	}
	store := func(src reg.VecVirtual, m Mem) {
		if mask != nil {
			VMOVUPS(src, mask, m)
		} else {
			VMOVUPS(src, m)
		}
	}
	sh := ZMM()
	load(at(Load(Param("shift").Base(), GP64()), c.j, 0), sh)
	zero := ZMM()
	VXORPS(zero, zero, zero)
	acc, tacc := ZMM(), ZMM()
	VMOVAPS(zero, acc)
	if c.withT {
		VMOVAPS(zero, tacc)
	}
	rs, rd := GP64(), GP64()
	LEAQ(Mem{Base: Load(Param("s").Base(), GP64()), Index: c.j, Scale: 4}, rs)
	LEAQ(Mem{Base: Load(Param("p").Base(), GP64()), Index: c.j, Scale: 4}, rd)
	i := GP64()
	Load(Param("m"), i)
	// step: the exps of the rows at srows (stored at prows), then their
	// sums in row order.
	step := func(srows, prows []Mem, label string) {
		n := len(srows)
		xs, ys := make([]reg.VecVirtual, n), make([]reg.VecVirtual, n)
		var xcs []reg.VecVirtual
		for r := range n {
			xs[r], ys[r] = ZMM(), ZMM()
			load(srows[r], xs[r])
			VSUBPS(sh, xs[r], xs[r])
			if c.withT {
				xcs = append(xcs, ZMM())
			}
		}
		c.z.expChecked(xs, ys, xcs, label)
		for r := range n {
			if c.withT {
				prod := ZMM()
				VMULPS(xcs[r], ys[r], prod)
				VADDPS(prod, tacc, tacc)
			}
			store(ys[r], prows[r])
			VADDPS(ys[r], acc, acc)
		}
	}
	for si, rows := range c.steps {
		l := fmt.Sprintf("%s_r%d", label, rows)
		Label(l)
		CMPQ(i, U8(rows))
		if si == len(c.steps)-1 {
			JB(LabelRef(label + "_store"))
		} else {
			JB(LabelRef(fmt.Sprintf("%s_r%d", label, c.steps[si+1])))
		}
		sm, snext := rowAddrs(rs, c.lds, c.lds3, rows)
		pm, pnext := rowAddrs(rd, c.ldp, c.ldp3, rows)
		step(sm, pm, l)
		snext()
		pnext()
		SUBQ(U8(rows), i)
		JMP(LabelRef(l))
	}
	Label(label + "_store")
	store(acc, at(Load(Param("sum").Base(), GP64()), c.j, 0))
	if c.withT {
		store(tacc, at(Load(Param("t").Base(), GP64()), c.j, 0))
	}
}

// rowAddrs returns the addresses of rows rows from base (stride ld bytes,
// ld3 = 3·ld), four from each of base, base+4·ld, …, and a function that
// moves base past them.
func rowAddrs(base, ld, ld3 reg.GPVirtual, rows int) ([]Mem, func()) {
	bases := []reg.GPVirtual{base}
	for q := 4; q < rows; q += 4 {
		b := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: ld, Scale: 4}, b)
		bases = append(bases, b)
	}
	off := func(b reg.GPVirtual, r int) Mem {
		switch r {
		case 1:
			return Mem{Base: b, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: b, Index: ld, Scale: 2}
		case 3:
			return Mem{Base: b, Index: ld3, Scale: 1}
		case 4:
			return Mem{Base: b, Index: ld, Scale: 4}
		}
		return Mem{Base: b}
	}
	var ms []Mem
	for r := range rows {
		ms = append(ms, off(bases[r/4], r%4))
	}
	last := bases[(rows-1)/4]
	next := func() {
		if rows == 1 {
			ADDQ(ld, base)
			return
		}
		LEAQ(off(last, rows-4*((rows-1)/4)), base)
	}
	return ms, next
}
