package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// gemvPrefetch is how far ahead of each panel's stream genGemvPanels'
// PF kernels prefetch, in bytes. The hardware prefetchers alone left decoding
// below the read bandwidth on the Zen 5 machine: the 768-wide model on 2
// threads decoded 131–134 tokens/s without, 144–148 at 1 KiB ahead, 135–144
// at 512 B and 131–145 at 2 KiB (alternating runs, 2026-12-01); stories260K,
// whose weights stay in the caches, lost 3–5 % to the hints.
const gemvPrefetch = 1024

// genGemvPanels writes gemvPanels<P><kind>AVX2(c, a, w, k, stride): one row
// of a times P panels of packed weights (see PackPanels): panel t starts at
// w[t*stride] and holds element (j, p) at [p*16+j]. Each of the P·16
// columns has one accumulator lane that takes a[p]·w[p*16+j] with one FMA
// for p increasing from 0, the order of the 6×16 tiles (mmScaleAVX2 with
// alpha 1), so a row's bits do not depend on how many rows are multiplied.
// Two ymm accumulators per panel: P = 4 keeps 8 FMA chains in flight. kind
// "" reads float32 panels (FMA from memory); "F16" and "BF16" read
// half-precision panels (w []uint16, stride in elements) and widen each
// step's 16 values in registers (two widen8) before the same FMAs, so they
// give the float32 kernel's bits on the widened weights.
//
// With prefetch it writes gemvPanels<P><kind>PFAVX2, which also prefetches
// each panel's stream gemvPrefetch bytes ahead: for weights too large to stay
// in the caches (see Panels.prefetch); on small ones the hints only cost.
func genGemvPanels(kind string, panels int, prefetch bool) {
	name := fmt.Sprintf("gemvPanels%d%sAVX2", panels, kind)
	if prefetch {
		name = fmt.Sprintf("gemvPanels%d%sPFAVX2", panels, kind)
	}
	size, typ := 4, "float32" // bytes per weight
	if kind != "" {
		size, typ = 2, "uint16"
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(c, a []float32, w []%s, k, stride int)", typ))
	Pragma("noescape")
	wt := "w[t*stride+p*16+j]"
	if kind != "" {
		wt = "widen(" + wt + ")"
	}
	Doc(fmt.Sprintf("%s sets c[t*16+j] = Σ_p a[p]·%s for t < %d, j < 16 (see MatMulPanels).", name, wt, panels))
	r0 := Load(Param("w").Base(), GP64())
	s := Load(Param("stride"), GP64())
	if size == 4 {
		SHLQ(U8(2), s)
	} else {
		SHLQ(U8(1), s)
	}
	r1 := GP64()
	LEAQ(Mem{Base: r0, Index: s, Scale: 1}, r1)
	ap := Load(Param("a").Base(), GP64())
	k := Load(Param("k"), GP64())
	acc := make([][2]reg.VecVirtual, panels)
	for t := range acc {
		for h := range acc[t] {
			acc[t][h] = YMM()
			VXORPS(acc[t][h], acc[t][h], acc[t][h])
		}
	}
	mem := func(t, disp int) Mem {
		switch t {
		case 0:
			return Mem{Base: r0, Disp: disp}
		case 1:
			return Mem{Base: r1, Disp: disp}
		case 2:
			return Mem{Base: r0, Index: s, Scale: 2, Disp: disp}
		}
		return Mem{Base: r1, Index: s, Scale: 2, Disp: disp}
	}
	TESTQ(k, k)
	JZ(LabelRef(name + "_store"))
	Label(name + "_loop")
	x := YMM()
	VBROADCASTSS(Mem{Base: ap}, x)
	for t := 0; t < panels && prefetch; t++ { // each stream gemvPrefetch bytes ahead (a hint; past the end it does nothing)
		PREFETCHT0(mem(t, gemvPrefetch))
	}
	for t := range acc {
		for h := range acc[t] {
			if kind == "" {
				VFMADD231PS(mem(t, 32*h), x, acc[t][h])
				continue
			}
			wv := YMM()
			widen8(kind, mem(t, 16*h), wv)
			VFMADD231PS(wv, x, acc[t][h])
		}
	}
	ADDQ(U8(4), ap)
	ADDQ(U8(16*size), r0)
	ADDQ(U8(16*size), r1)
	DECQ(k)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_store")
	cp := Load(Param("c").Base(), GP64())
	for t := range acc {
		for h := range acc[t] {
			VMOVUPS(acc[t][h], Mem{Base: cp, Disp: 64*t + 32*h})
		}
	}
	VZEROUPPER()
	RET()
}
