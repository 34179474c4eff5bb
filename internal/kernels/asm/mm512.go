package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// mm512Rows are the heights of the AVX-512 register tiles: a 12-row tile
// 32 columns wide keeps 24 zmm accumulators, two zmm of b and a broadcast in
// 27 of the 32 registers (twice the columns and twice the rows of the AVX2
// 6×16 tile: one broadcast feeds two FMAs, so loads stay well below the two
// FMAs a cycle); any remainder of rows is a sum of at most three of them.
var mm512Rows = []int{12, 8, 4, 2, 1}

// genMM512Set writes the AVX-512 register tiles (set mm512) of every kind
// and height.
func genMM512Set() {
	genDotRows512()
	genAxpyRows512()
	genF32ToBF16()
	for _, kind := range []mmKind{mmScale, mmAdd, mmAddT} {
		for _, rows := range mm512Rows {
			genMM512Tile(kind, rows)
		}
	}
}

// mm512Name is the name of the rows-high AVX-512 tile of kind:
// mmScale12AVX512, mmAddT1AVX512.
func mm512Name(kind mmKind, rows int) string {
	return fmt.Sprintf("%s%dAVX512", [...]string{"mmScale", "mmAdd", "mmAddT"}[kind], rows)
}

// genMM512Tile writes the AVX-512 twin of genMMTile's tiles for a rows × n
// block, n a multiple of 16: c = alpha·(a·b) (mmScale), c += a·b (mmAdd) or
// c += aᵀ·b (mmAddT). b is read as 16-column slabs: slab s holds columns
// 16s…16s+15, (k, 16) with row stride ldb, and starts bs floats after slab
// s−1 (bs = 16 for a row-major b; the panel size for MatMulPanels' packed
// panels). c is row-major with row stride ldc. Two slabs go together (32
// columns, two zmm per row), a last odd slab alone. Each element has one
// accumulator lane: a[r,p]·b[p,j] is added with one FMA for p increasing
// from 0, then multiplied by alpha or added to c — the operations of the
// AVX2 tiles, so both paths give the same bits.
func genMM512Tile(kind mmKind, rows int) {
	name := mm512Name(kind, rows)
	TEXT(name, NOSPLIT, "func(c []float32, ldc int, a []float32, lda int, b []float32, ldb, bs, n, k int, alpha float32)")
	Pragma("noescape")
	switch kind {
	case mmScale:
		Doc(fmt.Sprintf("%s sets the %d×n tile c[r*ldc+j] = alpha·Σ_p a[r*lda+p]·b[slab(j)+p*ldb+j%%16], n a multiple of 16, slab(j) = (j/16)·bs (see mmRows).", name, rows))
	case mmAdd:
		Doc(fmt.Sprintf("%s adds Σ_p a[r*lda+p]·b[slab(j)+p*ldb+j%%16] to the %d×n tile c[r*ldc+j], n a multiple of 16, slab(j) = (j/16)·bs (see mmRows).", name, rows))
	default:
		Doc(fmt.Sprintf("%s adds Σ_p a[p*lda+r]·b[slab(j)+p*ldb+j%%16] to the %d×n tile c[r*ldc+j], n a multiple of 16, slab(j) = (j/16)·bs (see mmRows).", name, rows))
	}
	// j counts the columns done; the loop takes two slabs while 32 columns
	// are left, then one if 16 are.
	j := GP64()
	XORQ(j, j)
	Label(name + "_cols2")
	left := Load(Param("n"), GP64())
	SUBQ(j, left)
	CMPQ(left, U8(32))
	JB(LabelRef(name + "_cols1"))
	mm512Block(kind, rows, 2, j, name+"_b2")
	ADDQ(U8(32), j)
	JMP(LabelRef(name + "_cols2"))
	Label(name + "_cols1")
	CMPQ(left, U8(16))
	JB(LabelRef(name + "_done"))
	mm512Block(kind, rows, 1, j, name+"_b1")
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// mm512Block emits the rows × 16·slabs block of genMM512Tile whose first
// column is j (a register, preserved).
func mm512Block(kind mmKind, rows, slabs int, j reg.GPVirtual, label string) {
	// b's slabs: bp is slab j/16, bs4 the bytes from one slab to the next.
	bs4 := Load(Param("bs"), GP64())
	SHLQ(U8(2), bs4)
	bp := GP64()
	MOVQ(j, bp)
	SHRQ(U8(4), bp)
	IMULQ(bs4, bp)
	ADDQ(Load(Param("b").Base(), GP64()), bp)
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	// a: mmAddT reads row p of a at ap (element r at ap+4r), advanced by lda
	// per step; the others read a[r, p] at rowBase[r/4] + (r%4)·lda + 4p
	// through pointers to rows 0, 4, 8 advanced by 4 bytes per step.
	ap := GP64()
	Load(Param("a").Base(), ap)
	var bases []reg.GPVirtual
	var lda3 reg.GPVirtual
	if kind != mmAddT {
		bases = []reg.GPVirtual{ap}
		for r := 4; r < rows; r += 4 {
			b := GP64()
			LEAQ(Mem{Base: bases[len(bases)-1], Index: lda, Scale: 4}, b)
			bases = append(bases, b)
		}
		if rows > 3 {
			lda3 = GP64()
			LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
		}
	}
	aAt := func(r, disp int) Mem {
		if kind == mmAddT {
			return Mem{Base: ap, Disp: 4 * r}
		}
		m := Mem{Base: bases[r/4], Disp: disp}
		switch r % 4 {
		case 1:
			m.Index, m.Scale = lda, 1
		case 2:
			m.Index, m.Scale = lda, 2
		case 3:
			m.Index, m.Scale = lda3, 1
		}
		return m
	}
	// The accumulators start as copies of a zero register: avo's liveness
	// takes VPXORD x, x, x as a read of x, which would keep every
	// accumulator live around the column loop and leave too few registers.
	zero := ZMM()
	VPXORD(zero, zero, zero)
	acc := make([][]reg.VecVirtual, rows)
	for r := range acc {
		acc[r] = make([]reg.VecVirtual, slabs)
		for s := range acc[r] {
			acc[r][s] = ZMM()
			VMOVAPS(zero, acc[r][s])
		}
	}
	// One step of p: the slabs' row p, then each row's broadcast a[r, p]
	// into its FMAs. disp is the byte offset of p within a row of a (two
	// steps per iteration share one pointer update). bv and t are the same
	// virtual registers in every step and row (avo's allocator would give
	// each its own physical register otherwise, and 12 rows would not fit).
	bv := make([]reg.VecVirtual, slabs)
	for s := range bv {
		bv[s] = ZMM()
	}
	t := ZMM()
	step := func(disp int) {
		for s := range bv {
			if s == 0 {
				VMOVUPS(Mem{Base: bp}, bv[s])
			} else {
				VMOVUPS(Mem{Base: bp, Index: bs4, Scale: 1}, bv[s])
			}
		}
		for r := 0; r < rows; r++ {
			VBROADCASTSS(aAt(r, disp), t)
			for s := range bv {
				VFMADD231PS(bv[s], t, acc[r][s])
			}
		}
		ADDQ(ldb, bp)
		if kind == mmAddT {
			ADDQ(lda, ap)
		}
	}
	advance := func(bytes int) {
		if kind != mmAddT {
			for _, b := range bases {
				ADDQ(U8(bytes), b)
			}
		}
	}
	cnt := Load(Param("k"), GP64())
	Label(label + "_loop")
	CMPQ(cnt, U8(2))
	JB(LabelRef(label + "_odd"))
	step(0)
	step(4)
	advance(8)
	SUBQ(U8(2), cnt)
	JMP(LabelRef(label + "_loop"))
	Label(label + "_odd")
	TESTQ(cnt, cnt)
	JZ(LabelRef(label + "_store"))
	step(0)
	Label(label + "_store")
	cp := GP64()
	MOVQ(j, cp)
	SHLQ(U8(2), cp)
	ADDQ(Load(Param("c").Base(), GP64()), cp)
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	var al reg.VecVirtual
	if kind == mmScale {
		al = ZMM()
		VBROADCASTSS(addr("alpha"), al)
	}
	for r := 0; r < rows; r++ {
		if r > 0 {
			ADDQ(ldc, cp)
		}
		for s := 0; s < slabs; s++ {
			m := Mem{Base: cp, Disp: 64 * s}
			if kind == mmScale {
				VMULPS(al, acc[r][s], acc[r][s])
			} else {
				VADDPS(m, acc[r][s], acc[r][s])
			}
			VMOVUPS(acc[r][s], m)
		}
	}
}

// genF32ToBF16 writes f32ToBF16AVX512: dst[i] = F32ToBF16(src[i]) for
// i < len(src) (a multiple of 16), 16 values per step with F32ToBF16's
// integer operations: a NaN keeps its top half with the quiet bit set, any
// other value b rounds to nearest even as (b + 0x7fff + (b>>16)&1) >> 16.
func genF32ToBF16() {
	TEXT("f32ToBF16AVX512", NOSPLIT, "func(dst []uint16, src []float32)")
	Pragma("noescape")
	Doc("f32ToBF16AVX512 sets dst[i] = F32ToBF16(src[i]) for i < len(src), a multiple of 16 (see F32SliceToBF16).")
	dp := Load(Param("dst").Base(), GP64())
	sp := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	cst := func(v uint32) reg.VecVirtual {
		g, z := GP32(), ZMM()
		MOVL(U32(v), g)
		VPBROADCASTD(g, z)
		return z
	}
	abs, inf, bias, one, quiet := cst(0x7fffffff), cst(0x7f800000), cst(0x7fff), cst(1), cst(0x40)
	i := GP64()
	XORQ(i, i)
	Label("f2b_loop")
	CMPQ(i, n)
	JAE(LabelRef("f2b_done"))
	x, t, r := ZMM(), ZMM(), ZMM()
	VMOVDQU32(Mem{Base: sp, Index: i, Scale: 4}, x)
	VPSRLD(U8(16), x, t) // b >> 16
	VPANDD(one, t, r)    // (b >> 16) & 1
	VPADDD(bias, r, r)   // 0x7fff + …
	VPADDD(x, r, r)      // b + …
	VPSRLD(U8(16), r, r) // rounded
	VPORD(quiet, t, t)   // NaN: top half, quiet
	VPANDD(abs, x, x)    // |b|
	k := K()
	VPCMPUD(U8(6), inf, x, k) // NLE: |b| > 0x7f800000, a NaN
	VMOVDQU32(t, k, r)        // NaN lanes take the quiet top half
	VPMOVDW(r, Mem{Base: dp, Index: i, Scale: 2})
	ADDQ(U8(16), i)
	JMP(LabelRef("f2b_loop"))
	Label("f2b_done")
	VZEROUPPER()
	RET()
}
