// Command asm generates Headlight's amd64 kernels (AVX2+FMA, and AVX-512 in
// the sets whose names end in 512) with avo.
//
// It lives in its own module so that avo is not a dependency of Headlight.
// Run `go generate ./internal/kernels` (see ../gen.go); each -set writes one
// assembly file and its Go declarations:
//
//	go run . -set vec -out ../zvec_amd64.s -stubs ../zvec_stubs_amd64.go -pkg kernels
//	go run . -set gemm4 -out ../zgemm4_amd64.s -stubs ../zgemm4_stubs_amd64.go -pkg kernels
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

var set = flag.String("set", "vec", "kernels to generate: vec, exp, gemm1…gemm4 (tiles with that many rows of a), gemm43, mm, mmr, panels, hpanels, rows, half, exp512, mm512 or bf16dot512")

func main() {
	flag.Parse()
	ConstraintExpr("!purego")
	switch *set {
	case "vec":
		genDot()
		genAxpy()
		genScale()
		genSumSquares(false)
		genSumSquares(true)
		genScaleSumSquares4()
	case "exp":
		expTable()
		maskTable()
		genExpShiftSum(false)
		genExpShiftSum(true)
		genColMaxCount()
		genColExpShiftSum(false)
		genColExpShiftSum(true)
		genLog()
	case "gemm1", "gemm2", "gemm3", "gemm4":
		rows := int((*set)[4] - '0')
		for cols := 1; cols <= 3; cols++ {
			if rows == 4 && cols == 3 {
				break // gemm43: one file would pass 400 lines
			}
			genGemmTile(rows, cols)
		}
	case "gemm43":
		genGemmTile(4, 3)
	case "rows":
		genDotRows8()
		genAxpyRows8()
		genGemv8()
	case "half":
		for _, kind := range halfKinds {
			genWidenSlice(kind)
			genGemvHalf(kind)
		}
	case "panels":
		for _, pf := range []bool{false, true} {
			for p := 1; p <= 4; p++ {
				genGemvPanels("", p, pf)
			}
		}
	case "hpanels":
		for _, kind := range halfKinds {
			for _, pf := range []bool{false, true} {
				for p := 1; p <= 4; p++ {
					genGemvPanels(kind, p, pf)
				}
			}
		}
	case "mm":
		genMMTile(mmScale, mmRows)
		genMMTile(mmAdd, mmRows)
		genTranspose()
		genMaxCount()
		genPrefetch()
	case "mmr": // the smaller and the transposed tiles
		for _, kind := range []mmKind{mmScale, mmAdd, mmAddT} {
			for _, rows := range mmTileRows {
				if kind != mmAddT && rows == mmRows {
					continue // in set mm
				}
				genMMTile(kind, rows)
			}
		}
	case "exp512": // AVX-512: the 16-lane exps and column softmax (exp512.go)
		genExp512Set()
	case "mm512": // AVX-512: the zmm register tiles (mm512.go)
		genMM512Set()
	case "bf16dot512": // AVX-512 BF16: VDPBF16PS tiles, written without avo (bf16dot512.go)
		genBF16DotSet()
		return
	default:
		log.Fatalf("unknown -set %q", *set)
	}
	Generate()
}

var tailMask Mem

// maskTable declares 8 all-ones words followed by 8 zero words; loading 8
// words at offset 8−r gives a mask with the first r lanes set.
func maskTable() {
	tailMask = GLOBL("tailmask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
}

// loadMask sets dst to a lane mask with the first rem lanes (1…7) set.
func loadMask(rem reg.Register, dst reg.VecVirtual) {
	t := GP64()
	MOVQ(U32(8), t)
	SUBQ(rem, t)
	base := GP64()
	LEAQ(tailMask, base)
	VMOVDQU(Mem{Base: base, Index: t, Scale: 4}, dst)
}

// hsum reduces the 8 lanes l0…l7 of acc into the low lane of acc.AsX() as
// ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). tmp is clobbered.
func hsum(acc, tmp reg.VecVirtual) {
	VEXTRACTF128(U8(1), acc, tmp.AsX())
	VADDPS(tmp.AsX(), acc.AsX(), acc.AsX()) // h_i = l_i + l_{i+4}
	VPERMILPS(U8(0x0e), acc.AsX(), tmp.AsX())
	VADDPS(tmp.AsX(), acc.AsX(), acc.AsX()) // g0 = h0+h2, g1 = h1+h3
	VPERMILPS(U8(0x01), acc.AsX(), tmp.AsX())
	VADDSS(tmp.AsX(), acc.AsX(), acc.AsX()) // g0 + g1
}

func at(base, idx reg.Register, disp int) Mem {
	return Mem{Base: base, Index: idx, Scale: 4, Disp: disp}
}

// genGemmTile writes gemm<R>x<C>AVX2: c[r*ldc+j] = Σ_p a[r*k+p]·b[j*k+p] for
// r < R, j < C. Every element has its own ymm accumulator: lane p%8 takes
// a·b with one FMA for p increasing (the last k%8 through a masked load),
// then hsum. The order is the same in every tile shape, so an element's
// value does not depend on which tile computes it.
func genGemmTile(rows, cols int) {
	name := fmt.Sprintf("gemm%dx%dAVX2", rows, cols)
	TEXT(name, NOSPLIT, "func(c []float32, ldc int, a, b []float32, k int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of c = a·bᵀ (see gemmTile).", name, rows, cols))
	if tailMask.Symbol.Name == "" {
		maskTable()
	}
	k := Load(Param("k"), GP64())
	k4 := GP64()
	MOVQ(k, k4)
	SHLQ(U8(2), k4)
	arow := make([]reg.GPVirtual, rows)
	brow := make([]reg.GPVirtual, cols)
	for r := range arow {
		arow[r] = GP64()
		if r == 0 {
			Load(Param("a").Base(), arow[0])
		} else {
			LEAQ(Mem{Base: arow[r-1], Index: k4, Scale: 1}, arow[r])
		}
	}
	for j := range brow {
		brow[j] = GP64()
		if j == 0 {
			Load(Param("b").Base(), brow[0])
		} else {
			LEAQ(Mem{Base: brow[j-1], Index: k4, Scale: 1}, brow[j])
		}
	}
	acc := make([][]reg.VecVirtual, rows)
	for r := range acc {
		acc[r] = make([]reg.VecVirtual, cols)
		for j := range acc[r] {
			acc[r][j] = YMM()
			VXORPS(acc[r][j], acc[r][j], acc[r][j])
		}
	}
	end := GP64()
	MOVQ(k, end)
	ANDQ(I32(-8), end)
	p := GP64()
	XORQ(p, p)
	Label(name + "_loop")
	CMPQ(p, end)
	JAE(LabelRef(name + "_tail"))
	bv := make([]reg.VecVirtual, cols)
	for j := range bv {
		bv[j] = YMM()
		VMOVUPS(at(brow[j], p, 0), bv[j])
	}
	for r := 0; r < rows; r++ {
		av := YMM()
		VMOVUPS(at(arow[r], p, 0), av)
		for j := 0; j < cols; j++ {
			VFMADD231PS(bv[j], av, acc[r][j])
		}
	}
	ADDQ(U8(8), p)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	rem := GP64()
	MOVQ(k, rem)
	ANDQ(U8(7), rem)
	JZ(LabelRef(name + "_reduce"))
	mk := YMM()
	loadMask(rem, mk)
	for j := 0; j < cols; j++ {
		bt := YMM()
		VMASKMOVPS(at(brow[j], p, 0), mk, bt)
		for r := 0; r < rows; r++ {
			av := YMM()
			VMASKMOVPS(at(arow[r], p, 0), mk, av)
			VFMADD231PS(bt, av, acc[r][j])
		}
	}

	Label(name + "_reduce")
	cp := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	tmp := YMM()
	for r := 0; r < rows; r++ {
		if r > 0 {
			ADDQ(ldc, cp)
		}
		for j := 0; j < cols; j++ {
			hsum(acc[r][j], tmp)
			VMOVSS(acc[r][j].AsX(), Mem{Base: cp, Disp: 4 * j})
		}
	}
	VZEROUPPER()
	RET()
}
