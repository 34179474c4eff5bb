package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// mmRows is the number of rows of the largest register tile of genMMTile (6
// rows × 16 columns: 12 accumulators, two rows of b and a broadcast in 15
// registers); mmTileRows are the heights generated (any remainder of rows is
// a sum of at most two of them).
const mmRows = 6

var mmTileRows = []int{6, 4, 2, 1}

// mmKind is what a tile of genMMTile does with its sums.
type mmKind int

const (
	mmScale mmKind = iota // c = alpha·(a·b)
	mmAdd                 // c += a·b
	mmAddT                // c += aᵀ·b, a stored (k, rows)
)

// mmName is the name of the rows-high tile of kind: mmScaleAVX2, mmAdd4AVX2,
// mmAddT1AVX2 (the 6-row tiles have no number).
func mmName(kind mmKind, rows int) string {
	n := [...]string{"mmScale", "mmAdd", "mmAddT"}[kind]
	if rows != mmRows {
		n += fmt.Sprint(rows)
	}
	return n + "AVX2"
}

// genMMTile writes a rows × n block (n a multiple of 16, one 16-column
// register tile after the other) of c = alpha·(a·b) (mmScale), c += a·b
// (mmAdd) or c += aᵀ·b (mmAddT), b row-major (k, 16) with row stride ldb,
// c row stride ldc; a is row-major (rows, k) with row stride lda, or for
// mmAddT (k, rows) with row stride lda (element (r, p) at a[p*lda+r]).
// Each element has one accumulator lane: a[r,p]·b[p,j] is added with one FMA
// for p increasing from 0; then it is multiplied by alpha (mmScale) or added
// to c. All kinds share one signature (alpha is ignored when adding).
func genMMTile(kind mmKind, rows int) {
	name := mmName(kind, rows)
	TEXT(name, NOSPLIT, "func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k int, alpha float32)")
	Pragma("noescape")
	switch kind {
	case mmScale:
		Doc(fmt.Sprintf("%s sets the %d×n tile c[r*ldc+j] = alpha·Σ_p a[r*lda+p]·b[p*ldb+j], n a multiple of 16 (see MatMulRows).", name, rows))
	case mmAdd:
		Doc(fmt.Sprintf("%s adds Σ_p a[r*lda+p]·b[p*ldb+j] to the %d×n tile c[r*ldc+j], n a multiple of 16 (see MatMulAddRows).", name, rows))
	default:
		Doc(fmt.Sprintf("%s adds Σ_p a[p*lda+r]·b[p*ldb+j] to the %d×n tile c[r*ldc+j], n a multiple of 16 (see MatMulTAddRows).", name, rows))
	}
	// One 16-column tile after the other; jb is the byte offset of its first
	// column in b and c.
	jb := GP64()
	XORQ(jb, jb)
	Label(name + "_cols")
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	ar := make([]reg.GPVirtual, rows)
	if kind == mmAddT {
		ar = ar[:1] // one pointer to row p of a, advanced by lda
		ar[0] = GP64()
		Load(Param("a").Base(), ar[0])
	} else {
		for r := range ar {
			ar[r] = GP64()
			if r == 0 {
				Load(Param("a").Base(), ar[0])
			} else {
				LEAQ(Mem{Base: ar[r-1], Index: lda, Scale: 1}, ar[r])
			}
		}
	}
	bp := Load(Param("b").Base(), GP64())
	ADDQ(jb, bp)
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	k := Load(Param("k"), GP64())
	acc := make([][2]reg.VecVirtual, rows)
	for r := range acc {
		for j := range acc[r] {
			acc[r][j] = YMM()
			VXORPS(acc[r][j], acc[r][j], acc[r][j])
		}
	}
	// p runs over k, two steps per iteration, then one if k is odd; the
	// order of the FMAs into each accumulator is p increasing either way.
	p := GP64()
	XORQ(p, p)
	step := func() {
		b0, b1 := YMM(), YMM()
		VMOVUPS(Mem{Base: bp}, b0)
		VMOVUPS(Mem{Base: bp, Disp: 32}, b1)
		for r := 0; r < rows; r++ {
			t := YMM()
			if kind == mmAddT {
				VBROADCASTSS(Mem{Base: ar[0], Disp: 4 * r}, t)
			} else {
				VBROADCASTSS(at(ar[r], p, 0), t)
			}
			VFMADD231PS(b0, t, acc[r][0])
			VFMADD231PS(b1, t, acc[r][1])
		}
		ADDQ(ldb, bp)
		if kind == mmAddT {
			ADDQ(lda, ar[0])
		}
		INCQ(p)
	}
	k2 := GP64()
	MOVQ(k, k2)
	ANDQ(I32(-2), k2)
	JZ(LabelRef(name + "_odd"))
	Label(name + "_loop")
	step()
	step()
	CMPQ(p, k2)
	JB(LabelRef(name + "_loop"))
	Label(name + "_odd")
	CMPQ(p, k)
	JAE(LabelRef(name + "_done"))
	step()
	Label(name + "_done")
	cp := Load(Param("c").Base(), GP64())
	ADDQ(jb, cp)
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	var al reg.VecVirtual
	if kind == mmScale {
		al = YMM()
		VBROADCASTSS(addr("alpha"), al)
	}
	for r := 0; r < rows; r++ {
		if r > 0 {
			ADDQ(ldc, cp)
		}
		for j := 0; j < 2; j++ {
			m := Mem{Base: cp, Disp: 32 * j}
			if kind == mmScale {
				VMULPS(al, acc[r][j], acc[r][j])
			} else {
				VADDPS(m, acc[r][j], acc[r][j])
			}
			VMOVUPS(acc[r][j], m)
		}
	}
	ADDQ(U8(64), jb)
	nb := Load(Param("n"), GP64())
	SHLQ(U8(2), nb)
	CMPQ(jb, nb)
	JB(LabelRef(name + "_cols"))
	VZEROUPPER()
	RET()
}

// genTranspose writes transposeAVX2: dst[c*ldd+r] = src[r*lds+c] for r <
// rows, c < cols, both multiples of 8, by 8×8 blocks transposed in registers.
func genTranspose() {
	TEXT("transposeAVX2", NOSPLIT, "func(dst []float32, ldd int, src []float32, lds int, rows, cols int)")
	Pragma("noescape")
	Doc("transposeAVX2 sets dst[c*ldd+r] = src[r*lds+c] for r < rows, c < cols (multiples of 8; see Transpose).")
	dst := Load(Param("dst").Base(), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd)
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	i := GP64()
	XORQ(i, i)
	Label("tr_rows")
	CMPQ(i, rows)
	JAE(LabelRef("tr_done"))
	c := GP64()
	XORQ(c, c)
	Label("tr_cols")
	CMPQ(c, cols)
	JAE(LabelRef("tr_next"))
	// rows i…i+7, columns c…c+7 of src
	sp := GP64()
	MOVQ(i, sp)
	IMULQ(lds, sp)
	ADDQ(src, sp)
	LEAQ(Mem{Base: sp, Index: c, Scale: 4}, sp)
	r := make([]reg.VecVirtual, 8)
	for k := range r {
		r[k] = YMM()
		VMOVUPS(Mem{Base: sp}, r[k])
		if k < 7 {
			ADDQ(lds, sp)
		}
	}
	t := make([]reg.VecVirtual, 8)
	for k := 0; k < 4; k++ {
		t[2*k], t[2*k+1] = YMM(), YMM()
		VUNPCKLPS(r[2*k+1], r[2*k], t[2*k])
		VUNPCKHPS(r[2*k+1], r[2*k], t[2*k+1])
	}
	u := make([]reg.VecVirtual, 8)
	for h := 0; h < 2; h++ { // h=0: rows 0…3 (t0…t3), h=1: rows 4…7 (t4…t7)
		b := 4 * h
		u[b], u[b+1], u[b+2], u[b+3] = YMM(), YMM(), YMM(), YMM()
		VSHUFPS(U8(0x44), t[b+2], t[b], u[b])
		VSHUFPS(U8(0xee), t[b+2], t[b], u[b+1])
		VSHUFPS(U8(0x44), t[b+3], t[b+1], u[b+2])
		VSHUFPS(U8(0xee), t[b+3], t[b+1], u[b+3])
	}
	// output row c+k of dst at columns i…i+7
	dp := GP64()
	MOVQ(c, dp)
	IMULQ(ldd, dp)
	ADDQ(dst, dp)
	LEAQ(Mem{Base: dp, Index: i, Scale: 4}, dp)
	for k := 0; k < 8; k++ {
		o := YMM()
		imm := U8(0x20)
		if k >= 4 {
			imm = U8(0x31)
		}
		VPERM2F128(imm, u[4+k%4], u[k%4], o)
		VMOVUPS(o, Mem{Base: dp})
		if k < 7 {
			ADDQ(ldd, dp)
		}
	}
	ADDQ(U8(8), c)
	JMP(LabelRef("tr_cols"))
	Label("tr_next")
	ADDQ(U8(8), i)
	JMP(LabelRef("tr_rows"))
	Label("tr_done")
	VZEROUPPER()
	RET()
}

// genMaxCount writes maxCountAVX2 over len(x)&^7 elements (a multiple of 8):
// the lanes keep max(x, acc) with x first, so a NaN x leaves acc unchanged,
// and count the lanes equal to −Inf.
func genMaxCount() {
	TEXT("maxCountAVX2", NOSPLIT, "func(x []float32, negInf float32) (mx float32, ninf int)")
	Pragma("noescape")
	Doc("maxCountAVX2 returns the largest non-NaN x[i] (negInf if none) and the number of x[i] = negInf; len(x) is a multiple of 8 (see MaxCount).")
	xp := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	ninf := YMM()
	VBROADCASTSS(addr("negInf"), ninf)
	acc, cnt := YMM(), YMM()
	VMOVUPS(ninf, acc)
	VPXOR(cnt, cnt, cnt)
	i := GP64()
	XORQ(i, i)
	Label("mc_loop")
	CMPQ(i, n)
	JAE(LabelRef("mc_reduce"))
	v, e := YMM(), YMM()
	VMOVUPS(at(xp, i, 0), v)
	VMAXPS(acc, v, acc)
	VCMPPS(U8(0), ninf, v, e) // EQ_OQ
	VPSUBD(e, cnt, cnt)
	ADDQ(U8(8), i)
	JMP(LabelRef("mc_loop"))
	Label("mc_reduce")
	tmp := YMM()
	VEXTRACTF128(U8(1), acc, tmp.AsX())
	VMAXPS(acc.AsX(), tmp.AsX(), acc.AsX())
	VPERMILPS(U8(0x0e), acc.AsX(), tmp.AsX())
	VMAXPS(acc.AsX(), tmp.AsX(), acc.AsX())
	VPERMILPS(U8(0x01), acc.AsX(), tmp.AsX())
	VMAXSS(acc.AsX(), tmp.AsX(), acc.AsX())
	Store(acc.AsX(), ReturnIndex(0))
	VEXTRACTI128(U8(1), cnt, tmp.AsX())
	VPADDD(tmp.AsX(), cnt.AsX(), cnt.AsX())
	VPSHUFD(U8(0x0e), cnt.AsX(), tmp.AsX())
	VPADDD(tmp.AsX(), cnt.AsX(), cnt.AsX())
	VPSHUFD(U8(0x01), cnt.AsX(), tmp.AsX())
	VPADDD(tmp.AsX(), cnt.AsX(), cnt.AsX())
	r := GP32()
	VMOVD(cnt.AsX(), r)
	out := GP64()
	MOVLQSX(r, out)
	Store(out, ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// genPrefetch writes prefetchRowsAVX2: PREFETCHT0 of every 64-byte line of
// rows x[r*stride : r*stride+width], r < rows (width > 0).
func genPrefetch() {
	TEXT("prefetchRowsAVX2", NOSPLIT, "func(x []float32, stride, rows, width int)")
	Pragma("noescape")
	Doc("prefetchRowsAVX2 asks for the cache lines of rows x[r*stride : r*stride+width], r < rows (see PrefetchRows).")
	xp := Load(Param("x").Base(), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(U8(2), stride)
	rows := Load(Param("rows"), GP64())
	width := Load(Param("width"), GP64())
	SHLQ(U8(2), width)
	Label("pf_rows")
	TESTQ(rows, rows)
	JZ(LabelRef("pf_done"))
	o := GP64()
	XORQ(o, o)
	Label("pf_line")
	PREFETCHT0(Mem{Base: xp, Index: o, Scale: 1})
	ADDQ(U8(64), o)
	CMPQ(o, width)
	JB(LabelRef("pf_line"))
	ADDQ(stride, xp)
	DECQ(rows)
	JMP(LabelRef("pf_rows"))
	Label("pf_done")
	RET()
}
