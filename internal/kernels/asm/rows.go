package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The -set rows kernels: the attention row kernels for head dim 8 (one ymm
// per row) and the matrix–vector product of decoding. All three reduce eight
// rows at once into one vector of eight sums with reduce8.

// reduce8 takes p[j] = [h_j | h_{j+4}] (j < 4), where h_r holds the four
// half-sums of row r (lane i: l_i + l_{i+4} of the row's 8 lanes l), and
// returns the vector of the eight row sums (h0+h2)+(h1+h3), row r in lane r:
// the order of hsum, each add with the lower lanes as first operand.
func reduce8(p [4]reg.VecVirtual) reg.VecVirtual {
	var q [2]reg.VecVirtual
	for h := range q {
		lo, hi := YMM(), YMM()
		VSHUFPS(U8(0x44), p[2*h+1], p[2*h], lo) // h_j0, h_j1, h_(j+1)0, h_(j+1)1 (each 128-bit half)
		VSHUFPS(U8(0xee), p[2*h+1], p[2*h], hi) // lanes 2, 3 likewise
		q[h] = YMM()
		VADDPS(hi, lo, q[h]) // g0 = h0+h2, g1 = h1+h3 of two rows
	}
	g0, g1, s := YMM(), YMM(), YMM()
	VSHUFPS(U8(0x88), q[1], q[0], g0)
	VSHUFPS(U8(0xdd), q[1], q[0], g1)
	VADDPS(g1, g0, s)
	return s
}

// reduceAcc8 returns the eight row sums of eight 8-lane accumulators (row
// r in acc[r]) in one vector, row r in lane r: each row's lanes l_i and
// l_{i+4} are added first, then reduce8.
func reduceAcc8(acc [8]reg.VecVirtual) reg.VecVirtual {
	var p [4]reg.VecVirtual
	for j := range p {
		lo, hi := YMM(), YMM()
		VPERM2F128(U8(0x20), acc[j+4], acc[j], lo) // low halves of rows j, j+4
		VPERM2F128(U8(0x31), acc[j+4], acc[j], hi)
		p[j] = YMM()
		VADDPS(hi, lo, p[j])
	}
	return reduce8(p)
}

// genDotRows8 writes dotRows8AVX2 (see dotRows8Go for the order): per pair
// of rows (r, r+4) one ymm [lo r | lo r+4] times the query's low half, one
// FMA of [hi r | hi r+4] by its high half, then reduce8 and the scale. The
// last n%8 rows repeat the last row in the missing lanes and are stored
// through a mask.
func genDotRows8() {
	TEXT("dotRows8AVX2", NOSPLIT, "func(dst []float32, scale float32, x, a []float32, stride int)")
	Pragma("noescape")
	Doc("dotRows8AVX2 is DotRows for rows of 8 starting at a[0] (see dotRows8Go).")
	if tailMask.Symbol.Name == "" {
		maskTable()
	}
	dp := Load(Param("dst").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	xp := Load(Param("x").Base(), GP64())
	ap := Load(Param("a").Base(), GP64())
	st := Load(Param("stride"), GP64())
	SHLQ(U8(2), st)
	st3 := GP64()
	LEAQ(Mem{Base: st, Index: st, Scale: 2}, st3)
	xlo, xhi, sc := YMM(), YMM(), YMM()
	VBROADCASTF128(Mem{Base: xp}, xlo)
	VBROADCASTF128(Mem{Base: xp, Disp: 16}, xhi)
	VBROADCASTSS(addr("scale"), sc)

	// rows r0…r7 of one group, from a base and the row pointers' offsets.
	group := func(rows [8]Mem) reg.VecVirtual {
		var p [4]reg.VecVirtual
		for j := range p {
			lo, hi := YMM(), YMM()
			VBROADCASTF128(rows[j], lo) // writes the whole ymm (a load to the xmm would leave avo's liveness of the upper half open)
			VINSERTF128(U8(1), rows[j+4], lo, lo)
			hiR, hiR4 := rows[j], rows[j+4]
			hiR.Disp += 16
			hiR4.Disp += 16
			VBROADCASTF128(hiR, hi)
			VINSERTF128(U8(1), hiR4, hi, hi)
			p[j] = YMM()
			VMULPS(xlo, lo, p[j])
			VFMADD231PS(xhi, hi, p[j]) // h_i = x_(i+4)·r_(i+4) + x_i·r_i
		}
		s := reduce8(p)
		VMULPS(sc, s, s)
		return s
	}

	p4 := GP64()
	Label("dotrows8_loop")
	CMPQ(n, U8(8))
	JB(LabelRef("dotrows8_tail"))
	LEAQ(Mem{Base: ap, Index: st, Scale: 4}, p4)
	s := group([8]Mem{
		{Base: ap}, {Base: ap, Index: st, Scale: 1}, {Base: ap, Index: st, Scale: 2}, {Base: ap, Index: st3, Scale: 1},
		{Base: p4}, {Base: p4, Index: st, Scale: 1}, {Base: p4, Index: st, Scale: 2}, {Base: p4, Index: st3, Scale: 1},
	})
	VMOVUPS(s, Mem{Base: dp})
	ADDQ(U8(32), dp)
	LEAQ(Mem{Base: p4, Index: st, Scale: 4}, ap)
	SUBQ(U8(8), n)
	JMP(LabelRef("dotrows8_loop"))

	Label("dotrows8_tail")
	TESTQ(n, n)
	JZ(LabelRef("dotrows8_done"))
	// Row j < 8 of the group is row min(j, n-1).
	var rp [8]reg.Register
	rp[0] = ap
	for j := 1; j < 8; j++ {
		r := GP64()
		rp[j] = r
		next := GP64()
		MOVQ(rp[j-1], rp[j])
		LEAQ(Mem{Base: rp[j-1], Index: st, Scale: 1}, next)
		CMPQ(n, U8(j))
		CMOVQGT(next, rp[j])
	}
	var rows [8]Mem
	for j := range rows {
		rows[j] = Mem{Base: rp[j]}
	}
	s = group(rows)
	mk := YMM()
	loadMask(n, mk)
	VMASKMOVPS(s, mk, Mem{Base: dp})
	Label("dotrows8_done")
	VZEROUPPER()
	RET()
}

// genAxpyRows8 writes axpyRows8AVX2: y stays in one ymm; per row of nonzero
// weight (the weight's bits other than the sign are tested, so ±0 skip and
// NaN does not) one FMA y = w[j]·row + y, rows in order.
func genAxpyRows8() {
	TEXT("axpyRows8AVX2", NOSPLIT, "func(y, w, a []float32, stride int)")
	Pragma("noescape")
	Doc("axpyRows8AVX2 is AxpyRows for rows of 8 starting at a[0]: row j goes into partial sum j%4 (see axpyRows8Go).")
	yp := Load(Param("y").Base(), GP64())
	wp := Load(Param("w").Base(), GP64())
	n := Load(Param("w").Len(), GP64())
	ap := Load(Param("a").Base(), GP64())
	st := Load(Param("stride"), GP64())
	SHLQ(U8(2), st)
	// Four partial sums, row j in s[j%4]: four independent chains of FMAs
	// instead of one (a key per FMA latency).
	acc := make([]reg.VecVirtual, 4)
	for q := range acc { // −0 in every lane: y + (−0) is y, even for y = −0
		acc[q] = YMM()
		VPCMPEQD(acc[q], acc[q], acc[q])
		VPSLLD(U8(31), acc[q], acc[q])
	}
	j := GP64()
	XORQ(j, j)
	// row adds row j (at ap) into s[q] unless w[j] is ±0, then steps ap and j.
	row := func(q int, label string) {
		bits := GP32()
		MOVL(at(wp, j, 0), bits)
		ADDL(bits, bits) // drops the sign: zero for +0 and -0 only
		JZ(LabelRef(label))
		e := YMM()
		VBROADCASTSS(at(wp, j, 0), e)
		VFMADD231PS(Mem{Base: ap}, e, acc[q])
		Label(label)
		ADDQ(st, ap)
		INCQ(j)
	}
	n4 := GP64()
	MOVQ(n, n4)
	ANDQ(I8(-4), n4)
	Label("axpyrows8_loop4")
	CMPQ(j, n4)
	JAE(LabelRef("axpyrows8_tail"))
	for q := range 4 {
		row(q, fmt.Sprintf("axpyrows8_skip%d", q))
	}
	JMP(LabelRef("axpyrows8_loop4"))
	Label("axpyrows8_tail")
	for q := range 3 { // at most 3 rows left, into s[0], s[1], s[2]
		CMPQ(j, n)
		JAE(LabelRef("axpyrows8_done"))
		row(q, fmt.Sprintf("axpyrows8_tskip%d", q))
	}
	Label("axpyrows8_done")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	VADDPS(Mem{Base: yp}, acc[0], acc[0]) // y + ((s0+s1)+(s2+s3))
	VMOVUPS(acc[0], Mem{Base: yp})
	VZEROUPPER()
	RET()
}

// genGemv8 writes gemv8AVX2: c[j] = Σ_p a[p]·b[j*k+p] for j < len(c)&^7,
// eight rows of b at a time, each element in the order of the gemm tiles
// (lane p%8 of its own accumulator, FMA for p increasing, the last k%8
// through masked loads, then the hsum order via reduce8), so it gives the
// tiles' bits.
func genGemv8() {
	TEXT("gemv8AVX2", NOSPLIT, "func(c, a, b []float32, k int)")
	Pragma("noescape")
	Doc("gemv8AVX2 computes c[j] = a·b[j] for j < len(c)&^7 in the gemm tiles' order (see MatMulTransB).")
	if tailMask.Symbol.Name == "" {
		maskTable()
	}
	cp := Load(Param("c").Base(), GP64())
	groups := Load(Param("c").Len(), GP64())
	SHRQ(U8(3), groups)
	JZ(LabelRef("gemv8_done"))
	bg := Load(Param("b").Base(), GP64())
	k := Load(Param("k"), GP64())
	k4 := GP64()
	MOVQ(k, k4)
	SHLQ(U8(2), k4)
	rem := GP64()
	MOVQ(k, rem)
	ANDQ(U8(7), rem)
	mk := YMM()
	VXORPS(mk, mk, mk)
	JZ(LabelRef("gemv8_group"))
	loadMask(rem, mk)

	Label("gemv8_group")
	q0, q3, q6, ap, cnt := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVQ(bg, q0)
	LEAQ(Mem{Base: k4, Index: k4, Scale: 2}, q3) // 3·k4
	ADDQ(bg, q3)
	LEAQ(Mem{Base: q3, Index: k4, Scale: 2}, q6)
	ADDQ(k4, q6)
	Load(Param("a").Base(), ap)
	MOVQ(k, cnt)
	SHRQ(U8(3), cnt)
	rows := func(disp int) [8]Mem {
		return [8]Mem{
			{Base: q0, Disp: disp}, {Base: q0, Index: k4, Scale: 1, Disp: disp}, {Base: q0, Index: k4, Scale: 2, Disp: disp},
			{Base: q3, Disp: disp}, {Base: q0, Index: k4, Scale: 4, Disp: disp}, {Base: q3, Index: k4, Scale: 2, Disp: disp},
			{Base: q6, Disp: disp}, {Base: q6, Index: k4, Scale: 1, Disp: disp},
		}
	}
	var acc [8]reg.VecVirtual
	for j := range acc {
		acc[j] = YMM()
		VXORPS(acc[j], acc[j], acc[j])
	}
	Label("gemv8_loop")
	TESTQ(cnt, cnt)
	JZ(LabelRef("gemv8_tail"))
	va := YMM()
	VMOVUPS(Mem{Base: ap}, va)
	for j, m := range rows(0) {
		VFMADD231PS(m, va, acc[j])
	}
	ADDQ(U8(32), ap)
	ADDQ(U8(32), q0)
	ADDQ(U8(32), q3)
	ADDQ(U8(32), q6)
	DECQ(cnt)
	JMP(LabelRef("gemv8_loop"))

	Label("gemv8_tail")
	TESTQ(rem, rem)
	JZ(LabelRef("gemv8_reduce"))
	vt := YMM()
	VMASKMOVPS(Mem{Base: ap}, mk, vt)
	for j, m := range rows(0) {
		bt := YMM()
		VMASKMOVPS(m, mk, bt)
		VFMADD231PS(bt, vt, acc[j])
	}

	Label("gemv8_reduce")
	VMOVUPS(reduceAcc8(acc), Mem{Base: cp})
	ADDQ(U8(32), cp)
	LEAQ(Mem{Base: q6, Index: k4, Scale: 2}, bg) // row 8 of the group…
	MOVQ(k, cnt)
	SHRQ(U8(3), cnt)
	SHLQ(U8(5), cnt)
	SUBQ(cnt, bg) // …at column 0 (q6 advanced by 32 per full step)
	DECQ(groups)
	JNZ(LabelRef("gemv8_group"))

	Label("gemv8_done")
	VZEROUPPER()
	RET()
}
