package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The -set half kernels: widening of float16 (F16C VCVTPH2PS) and bfloat16
// (zero-extend to 32 bits, shift left 16) to float32, for whole slices and
// in registers inside the matrix–vector product of decoding with
// half-precision weights. Widening is exact, so the products give the bits
// of the float32 kernels on the widened weights.

// halfKinds names the two formats: the suffix of the kernels' names.
var halfKinds = []string{"F16", "BF16"}

// widen8 widens the 8 half values at m (16 bytes) into the 8 lanes of dst.
// For float16 a signalling NaN comes out quiet (VCVTPH2PS sets the quiet
// bit); the slice kernels restore the twin's bits (see genWidenSlice).
func widen8(kind string, m Mem, dst reg.VecVirtual) {
	if kind == "F16" {
		VCVTPH2PS(m, dst)
		return
	}
	VPMOVZXWD(m, dst)
	VPSLLD(U8(16), dst, dst)
}

// genWidenSlice writes widen<kind>AVX2(dst, src): dst[i] = widened src[i]
// for i < len(dst)&^7 (src must be as long), 32 then 8 at a time. For
// float16 the lanes whose input is a signalling NaN (exponent 31, fraction
// ≠ 0 with its top bit clear) get the quiet bit cleared again, so the
// result keeps the input's payload bit for bit as F16ToF32 does.
func genWidenSlice(kind string) {
	name := fmt.Sprintf("widen%sAVX2", kind)
	TEXT(name, NOSPLIT, "func(dst []float32, src []uint16)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s widens src[:len(dst)&^7] into dst (see %sSliceToF32).", name, kind))
	dp := Load(Param("dst").Base(), GP64())
	sp := Load(Param("src").Base(), GP64())
	n := Load(Param("dst").Len(), GP64())
	SHRQ(U8(3), n) // groups of 8
	var expMask, quiet reg.VecVirtual
	if kind == "F16" {
		expMask, quiet = YMM(), YMM()
		t := GP32()
		MOVL(U32(0x7c00), t)
		MOVD(t, expMask.AsX())
		VPBROADCASTD(expMask.AsX(), expMask)
		MOVL(U32(0x400000), t)
		MOVD(t, quiet.AsX())
		VPBROADCASTD(quiet.AsX(), quiet)
	}
	one := func(e int) { // elements e…e+7 from sp, dp
		v := YMM()
		m := Mem{Base: sp, Disp: 2 * e}
		widen8(kind, m, v)
		if kind == "F16" {
			h, s, q := YMM(), YMM(), YMM()
			VPMOVZXWD(m, h)
			VPSLLD(U8(17), h, h) // drop the sign
			VPSRLD(U8(17), h, h)
			VPCMPGTD(expMask, h, s) // NaN: |h| > 0x7c00
			VPSLLD(U8(22), h, q)    // fraction bit 9 (quiet) → sign bit
			VPSRAD(U8(31), q, q)    // all ones where quiet
			VPANDN(s, q, s)         // signalling: NaN and not quiet
			VPAND(quiet, s, s)
			VPANDN(v, s, v) // clear the quiet bit there
		}
		VMOVUPS(v, Mem{Base: dp, Disp: 4 * e})
	}
	Label(name + "_loop4")
	CMPQ(n, U8(4))
	JB(LabelRef(name + "_loop1"))
	for u := 0; u < 4; u++ {
		one(8 * u)
	}
	ADDQ(U8(64), sp)
	ADDQ(U32(128), dp)
	SUBQ(U8(4), n)
	JMP(LabelRef(name + "_loop4"))
	Label(name + "_loop1")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	one(0)
	ADDQ(U8(16), sp)
	ADDQ(U8(32), dp)
	DECQ(n)
	JMP(LabelRef(name + "_loop1"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genGemvHalf writes gemv8<kind>AVX2(c, a, b, k): c[j] = Σ_p a[p]·b[j*k+p]
// for j < len(c)&^7 with b in half precision, in gemv8AVX2's order on the
// widened rows (so its bits, widening being exact): eight rows of b at a
// time, each widened in registers 8 values at a time, lane p%8 of the row's
// accumulator takes one FMA for p increasing, reduce8. The last k%8 values
// of the eight rows are copied to a zeroed stack block (16-bit moves: no
// read past a row) and widened from there; a's last k%8 come through a
// masked load, so lanes k%8…7 add 0·0 as the float32 kernel's masked loads
// do.
func genGemvHalf(kind string) {
	name := fmt.Sprintf("gemv8%sAVX2", kind)
	TEXT(name, NOSPLIT, "func(c, a []float32, b []uint16, k int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes c[j] = a·widen(b[j]) for j < len(c)&^7 in gemv8AVX2's order (see MatMulTransBHalf).", name))
	if tailMask.Symbol.Name == "" {
		maskTable()
	}
	tail := AllocLocal(128) // 8 rows × 8 values
	cp := Load(Param("c").Base(), GP64())
	groups := Load(Param("c").Len(), GP64())
	SHRQ(U8(3), groups)
	JZ(LabelRef(name + "_done"))
	bg := Load(Param("b").Base(), GP64())
	k := Load(Param("k"), GP64())
	k2 := GP64()
	MOVQ(k, k2)
	SHLQ(U8(1), k2)
	k16, pf := GP64(), GP64() // 8 rows in bytes; a prefetch address
	MOVQ(k, k16)
	SHLQ(U8(4), k16)
	rem := GP64()
	MOVQ(k, rem)
	ANDQ(U8(7), rem)
	mk := YMM()
	VXORPS(mk, mk, mk)
	JZ(LabelRef(name + "_group"))
	loadMask(rem, mk)

	Label(name + "_group")
	q0, q3, q6, ap, cnt := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVQ(bg, q0)
	LEAQ(Mem{Base: k2, Index: k2, Scale: 2}, q3) // 3·k2
	ADDQ(bg, q3)
	LEAQ(Mem{Base: q3, Index: k2, Scale: 2}, q6)
	ADDQ(k2, q6)
	Load(Param("a").Base(), ap)
	MOVQ(k, cnt)
	SHRQ(U8(3), cnt)
	rowsAt := func(disp int) [8]Mem {
		return [8]Mem{
			{Base: q0, Disp: disp}, {Base: q0, Index: k2, Scale: 1, Disp: disp}, {Base: q0, Index: k2, Scale: 2, Disp: disp},
			{Base: q3, Disp: disp}, {Base: q0, Index: k2, Scale: 4, Disp: disp}, {Base: q3, Index: k2, Scale: 2, Disp: disp},
			{Base: q6, Disp: disp}, {Base: q6, Index: k2, Scale: 1, Disp: disp},
		}
	}
	rows := rowsAt(0)
	var acc [8]reg.VecVirtual
	for j := range acc {
		acc[j] = YMM()
		VXORPS(acc[j], acc[j], acc[j])
	}
	// Four steps at a time: 64 bytes (one cache line's worth) of each row,
	// and a prefetch of the same line of the next group's row, so the eight
	// short row streams of the next group are in flight while this one
	// computes (without it 1536-byte rows ran at half the read bandwidth).
	Label(name + "_loop4")
	CMPQ(cnt, U8(4))
	JB(LabelRef(name + "_loop"))
	for u := 0; u < 4; u++ {
		va := YMM()
		VMOVUPS(Mem{Base: ap, Disp: 32 * u}, va)
		for j, m := range rowsAt(16 * u) {
			w := YMM()
			widen8(kind, m, w)
			VFMADD231PS(w, va, acc[j])
		}
	}
	for _, m := range rows {
		LEAQ(m, pf)
		PREFETCHT0(Mem{Base: pf, Index: k16, Scale: 1})
	}
	SUBQ(I8(-128), ap)
	ADDQ(U8(64), q0)
	ADDQ(U8(64), q3)
	ADDQ(U8(64), q6)
	SUBQ(U8(4), cnt)
	JMP(LabelRef(name + "_loop4"))

	Label(name + "_loop")
	TESTQ(cnt, cnt)
	JZ(LabelRef(name + "_tail"))
	va := YMM()
	VMOVUPS(Mem{Base: ap}, va)
	for j, m := range rows {
		w := YMM()
		widen8(kind, m, w)
		VFMADD231PS(w, va, acc[j])
	}
	ADDQ(U8(32), ap)
	ADDQ(U8(16), q0)
	ADDQ(U8(16), q3)
	ADDQ(U8(16), q6)
	DECQ(cnt)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(rem, rem)
	JZ(LabelRef(name + "_reduce"))
	z := YMM()
	VXORPS(z, z, z)
	for i := 0; i < 4; i++ {
		VMOVDQU(z, tail.Offset(32*i))
	}
	i, rp, w16 := GP64(), GP64(), GP32()
	XORQ(i, i)
	Label(name + "_copy")
	for j, m := range rows {
		LEAQ(m, rp)
		MOVWLZX(Mem{Base: rp, Index: i, Scale: 2}, w16)
		dst := tail.Offset(16 * j)
		dst.Index, dst.Scale = i, 2
		MOVW(w16.As16(), dst)
	}
	INCQ(i)
	CMPQ(i, rem)
	JB(LabelRef(name + "_copy"))
	vt := YMM()
	VMASKMOVPS(Mem{Base: ap}, mk, vt)
	for j := range rows {
		w := YMM()
		widen8(kind, tail.Offset(16*j), w)
		VFMADD231PS(w, vt, acc[j])
	}

	Label(name + "_reduce")
	VMOVUPS(reduceAcc8(acc), Mem{Base: cp})
	ADDQ(U8(32), cp)
	LEAQ(Mem{Base: q6, Index: k2, Scale: 2}, bg) // row 8 of the group…
	MOVQ(k, cnt)
	SHRQ(U8(3), cnt)
	SHLQ(U8(4), cnt)
	SUBQ(cnt, bg) // …at column 0 (q6 advanced by 16 per full step)
	DECQ(groups)
	JNZ(LabelRef(name + "_group"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}
