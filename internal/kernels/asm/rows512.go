package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The decoding step's attention rows on AVX-512 (set mm512): one call per
// head instead of one Dot or Axpy call per key row, each row's value with
// the bits of that call.

// genDotRows512 writes dotRowsAVX512(dst, scale, x, a, stride): dst[j] =
// scale·Dot(x, a[j·stride : j·stride+len(x)]) for j < len(dst), len(x) a
// multiple of 32, in Dot's AVX2 order: four 8-lane accumulators, element i
// into accumulator (i/8)%4 (one FMA each, i increasing), then lane sums
// (acc0+acc1)+(acc2+acc3) reduced by hsum. Here acc0|acc1 share one zmm
// (elements 32t…32t+15) and acc2|acc3 another (32t+16…32t+31), so the lane
// sums are low half + high half of each, then their sum.
func genDotRows512() {
	TEXT("dotRowsAVX512", NOSPLIT, "func(dst []float32, scale float32, x, a []float32, stride int)")
	Pragma("noescape")
	Doc("dotRowsAVX512 sets dst[j] = scale·Dot(x, a[j*stride:j*stride+len(x)]) in Dot's AVX2 order, len(x) a multiple of 32 (see DotRows).")
	dp := Load(Param("dst").Base(), GP64())
	rows := Load(Param("dst").Len(), GP64())
	xp := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	ap := Load(Param("a").Base(), GP64())
	st := Load(Param("stride"), GP64())
	SHLQ(U8(2), st)
	sc := XMM()
	VMOVSS(addr("scale"), sc)
	zero := ZMM()
	VPXORD(zero, zero, zero)
	Label("dr_rows")
	TESTQ(rows, rows)
	JZ(LabelRef("dr_done"))
	za, zb := ZMM(), ZMM()
	VMOVAPS(zero, za)
	VMOVAPS(zero, zb)
	i := GP64()
	XORQ(i, i)
	Label("dr_cols")
	t, u := ZMM(), ZMM()
	VMOVUPS(at(xp, i, 0), t)
	VFMADD231PS(at(ap, i, 0), t, za)
	VMOVUPS(at(xp, i, 64), u)
	VFMADD231PS(at(ap, i, 64), u, zb)
	ADDQ(U8(32), i)
	CMPQ(i, n)
	JB(LabelRef("dr_cols"))
	// s = (acc0 + acc1) + (acc2 + acc3), then hsum
	h := YMM()
	VEXTRACTF32X8(U8(1), za, h)
	VADDPS(h, za.AsY(), za.AsY())
	VEXTRACTF32X8(U8(1), zb, h)
	VADDPS(h, zb.AsY(), zb.AsY())
	VADDPS(zb.AsY(), za.AsY(), za.AsY())
	VEXTRACTF32X4(U8(1), za.AsY(), h.AsX()) // hsum's order, in EVEX forms (avo may pick Z16+)
	VADDPS(h.AsX(), za.AsX(), za.AsX())
	VPERMILPS(U8(0x0e), za.AsX(), h.AsX())
	VADDPS(h.AsX(), za.AsX(), za.AsX())
	VPERMILPS(U8(0x01), za.AsX(), h.AsX())
	VADDSS(h.AsX(), za.AsX(), za.AsX())
	VMULSS(sc, za.AsX(), za.AsX())
	VMOVSS(za.AsX(), Mem{Base: dp})
	ADDQ(U8(4), dp)
	ADDQ(st, ap)
	DECQ(rows)
	JMP(LabelRef("dr_rows"))
	Label("dr_done")
	VZEROUPPER()
	RET()
}

// axpyRows512Max is the widest row axpyRowsAVX512 keeps in registers.
const axpyRows512Max = 256

// genAxpyRows512 writes axpyRowsAVX512(y, w, a, stride): for j < len(w)
// with w[j] ≠ ±0, y[i] += w[j]·a[j·stride+i] with one FMA (Axpy's AVX2
// operation), rows in order, len(y) a multiple of 16 and at most
// axpyRows512Max: y stays in registers from the first row to the last, each
// element the same chain of FMAs as one Axpy call per row.
func genAxpyRows512() {
	TEXT("axpyRowsAVX512", NOSPLIT, "func(y, w, a []float32, stride int)")
	Pragma("noescape")
	Doc("axpyRowsAVX512 adds w[j]·a[j*stride:j*stride+len(y)] to y for each w[j] ≠ ±0, one FMA per element, rows in order; len(y) a multiple of 16, at most 256 (see AxpyRows).")
	yp := Load(Param("y").Base(), GP64())
	n := Load(Param("y").Len(), GP64())
	wp := Load(Param("w").Base(), GP64())
	rows := Load(Param("w").Len(), GP64())
	ap := Load(Param("a").Base(), GP64())
	st := Load(Param("stride"), GP64())
	SHLQ(U8(2), st)
	const maxV = axpyRows512Max / 16
	// y in up to 16 zmm: vector v is live when 16v < len(y), tested by a
	// compare and branch per vector (well predicted: the same every row).
	nv := GP64()
	MOVQ(n, nv)
	SHRQ(U8(4), nv)
	ys := make([]reg.VecVirtual, maxV)
	for v := range ys {
		ys[v] = ZMM()
		VPXORD(ys[v], ys[v], ys[v])
	}
	for v := range ys {
		CMPQ(nv, U8(v))
		JBE(LabelRef("ar_loaded"))
		VMOVUPS(Mem{Base: yp, Disp: 64 * v}, ys[v])
	}
	Label("ar_loaded")
	e := ZMM()
	zero := XMM()
	VXORPS(zero, zero, zero)
	Label("ar_rows")
	TESTQ(rows, rows)
	JZ(LabelRef("ar_store"))
	VMOVSS(Mem{Base: wp}, e.AsX())
	VUCOMISS(zero, e.AsX())
	JNE(LabelRef("ar_add"))
	JP(LabelRef("ar_add")) // NaN is not 0: it is added (and spreads)
	JMP(LabelRef("ar_next"))
	Label("ar_add")
	VBROADCASTSS(e.AsX(), e)
	for v := range ys {
		CMPQ(nv, U8(v))
		JBE(LabelRef("ar_next"))
		VFMADD231PS(Mem{Base: ap, Disp: 64 * v}, e, ys[v])
	}
	Label("ar_next")
	ADDQ(U8(4), wp)
	ADDQ(st, ap)
	DECQ(rows)
	JMP(LabelRef("ar_rows"))
	Label("ar_store")
	for v := range ys {
		CMPQ(nv, U8(v))
		JBE(LabelRef("ar_done"))
		VMOVUPS(ys[v], Mem{Base: yp, Disp: 64 * v})
	}
	Label("ar_done")
	VZEROUPPER()
	RET()
}
