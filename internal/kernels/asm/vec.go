package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// genDot writes dotAVX2. Element i goes to accumulator (i/8)%4, lane i%8,
// for i < n&^31; then to accumulator 0 for i < n&^7; the last n%8 to
// accumulator 1 (masked loads). Each product is added with one FMA. The
// accumulators are combined as (a0+a1)+(a2+a3), then the lanes by hsum.
func genDot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y []float32) float32")
	Pragma("noescape")
	Doc("dotAVX2 returns Σ x[i]*y[i] (len(y) ≥ len(x)); see Dot for the order.")
	maskTable()
	xp := Load(Param("x").Base(), GP64())
	yp := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := make([]reg.VecVirtual, 4)
	for q := range acc {
		acc[q] = YMM()
		VXORPS(acc[q], acc[q], acc[q])
	}
	i := GP64()
	XORQ(i, i)
	end := GP64()
	MOVQ(n, end)
	ANDQ(I32(-32), end)
	Label("dot_loop32")
	CMPQ(i, end)
	JAE(LabelRef("dot_loop8_init"))
	for q := 0; q < 4; q++ {
		t := YMM()
		VMOVUPS(at(xp, i, 32*q), t)
		VFMADD231PS(at(yp, i, 32*q), t, acc[q])
	}
	ADDQ(U8(32), i)
	JMP(LabelRef("dot_loop32"))
	Label("dot_loop8_init")
	MOVQ(n, end)
	ANDQ(I32(-8), end)
	Label("dot_loop8")
	CMPQ(i, end)
	JAE(LabelRef("dot_tail"))
	t := YMM()
	VMOVUPS(at(xp, i, 0), t)
	VFMADD231PS(at(yp, i, 0), t, acc[0])
	ADDQ(U8(8), i)
	JMP(LabelRef("dot_loop8"))
	Label("dot_tail")
	rem := GP64()
	MOVQ(n, rem)
	SUBQ(i, rem)
	JZ(LabelRef("dot_reduce"))
	mk := YMM()
	loadMask(rem, mk)
	u, v := YMM(), YMM()
	VMASKMOVPS(at(xp, i, 0), mk, u)
	VMASKMOVPS(at(yp, i, 0), mk, v)
	VFMADD231PS(v, u, acc[1])
	Label("dot_reduce")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	hsum(acc[0], acc[1])
	Store(acc[0].AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// genAxpy writes axpyAVX2: y[i] = fma(a, x[i], y[i]).
func genAxpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(a float32, x, y []float32)")
	Pragma("noescape")
	Doc("axpyAVX2 computes y[i] += a*x[i] with one rounding (FMA), len(y) ≥ len(x).")
	av := YMM()
	VBROADCASTSS(addr("a"), av)
	xp := Load(Param("x").Base(), GP64())
	yp := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	vecLoop("axpy", n, func(i reg.GPVirtual, disp int) {
		t := YMM()
		VMOVUPS(at(xp, i, disp), t)
		VFMADD213PS(at(yp, i, disp), av, t)
		VMOVUPS(t, at(yp, i, disp))
	}, func(i reg.GPVirtual, mk reg.VecVirtual) {
		t, u := YMM(), YMM()
		VMASKMOVPS(at(xp, i, 0), mk, t)
		VMASKMOVPS(at(yp, i, 0), mk, u)
		VFMADD231PS(t, av, u)
		VMASKMOVPS(u, mk, at(yp, i, 0))
	}, nil)
}

// genScale writes scaleAVX2: x[i] *= a.
func genScale() {
	TEXT("scaleAVX2", NOSPLIT, "func(a float32, x []float32)")
	Pragma("noescape")
	Doc("scaleAVX2 computes x[i] *= a.")
	av := YMM()
	VBROADCASTSS(addr("a"), av)
	xp := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	vecLoop("scale", n, func(i reg.GPVirtual, disp int) {
		t := YMM()
		VMULPS(at(xp, i, disp), av, t)
		VMOVUPS(t, at(xp, i, disp))
	}, func(i reg.GPVirtual, mk reg.VecVirtual) {
		t := YMM()
		VMASKMOVPS(at(xp, i, 0), mk, t)
		VMULPS(t, av, t)
		VMASKMOVPS(t, mk, at(xp, i, 0))
	}, nil)
}

// vecLoop emits an elementwise loop over n elements: body on 8 elements at
// index i (+disp bytes), unrolled 4× then 1×, and tail on the last n%8 with a
// lane mask. It ends with done (when non-nil: a reduction and the result's
// store), VZEROUPPER and RET.
func vecLoop(name string, n reg.Register, body func(i reg.GPVirtual, disp int), tail func(i reg.GPVirtual, mk reg.VecVirtual), done func()) {
	if tailMask.Symbol.Name == "" {
		maskTable()
	}
	i := GP64()
	XORQ(i, i)
	end := GP64()
	MOVQ(n, end)
	ANDQ(I32(-32), end)
	Label(name + "_loop32")
	CMPQ(i, end)
	JAE(LabelRef(name + "_loop8_init"))
	for q := 0; q < 4; q++ {
		body(i, 32*q)
	}
	ADDQ(U8(32), i)
	JMP(LabelRef(name + "_loop32"))
	Label(name + "_loop8_init")
	MOVQ(n, end)
	ANDQ(I32(-8), end)
	Label(name + "_loop8")
	CMPQ(i, end)
	JAE(LabelRef(name + "_tail"))
	body(i, 0)
	ADDQ(U8(8), i)
	JMP(LabelRef(name + "_loop8"))
	Label(name + "_tail")
	rem := GP64()
	MOVQ(n, rem)
	SUBQ(i, rem)
	JZ(LabelRef(name + "_done"))
	mk := YMM()
	loadMask(rem, mk)
	tail(i, mk)
	Label(name + "_done")
	if done != nil {
		done()
	}
	VZEROUPPER()
	RET()
}

// addr is the stack address of parameter name.
func addr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// genSumSquares writes sumSquaresAVX2, and with scale scaleSumSquaresAVX2,
// which first sets x[i] *= a (float32, as scaleAVX2) and sums the squares of
// the stored products. Element i is widened to float64 and added with one FMA
// into lane i%4 of a single accumulator, in increasing i (vecLoop's steps;
// the last n%8 through a lane mask: masked lanes add +0, which changes no
// sum of squares); the lanes are reduced as (s0+s1)+(s2+s3). A float32
// squared is exact in float64, so each FMA rounds as SumSquares'
// product-then-add does: the result equals the twin's bit for bit.
func genSumSquares(scale bool) {
	name, sig := "sumSquaresAVX2", "func(x []float32) float64"
	doc := "sumSquaresAVX2 returns Σ x[i]² in float64 (lane i%4; see SumSquares)."
	if scale {
		name, sig = "scaleSumSquaresAVX2", "func(a float32, x []float32) float64"
		doc = "scaleSumSquaresAVX2 sets x[i] *= a and returns Σ x[i]² of the products in float64 (see ScaleSumSquares)."
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	var av reg.VecVirtual
	if scale {
		av = YMM()
		VBROADCASTSS(addr("a"), av)
	}
	xp := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	acc := YMM()
	VXORPD(acc, acc, acc)
	// square adds the squares of the 8 float32 of t to acc: lanes 0–3, then 4–7.
	square := func(t reg.VecVirtual) {
		u, h := YMM(), YMM()
		VCVTPS2PD(t.AsX(), u)
		VFMADD231PD(u, u, acc)
		VEXTRACTF128(U8(1), t, h.AsX())
		VCVTPS2PD(h.AsX(), u)
		VFMADD231PD(u, u, acc)
	}
	vecLoop(name, n, func(i reg.GPVirtual, disp int) {
		t := YMM()
		if scale {
			VMULPS(at(xp, i, disp), av, t)
			VMOVUPS(t, at(xp, i, disp))
		} else {
			VMOVUPS(at(xp, i, disp), t)
		}
		square(t)
	}, func(i reg.GPVirtual, mk reg.VecVirtual) {
		t := YMM()
		VMASKMOVPS(at(xp, i, 0), mk, t)
		if scale {
			VMULPS(t, av, t)
			VMASKMOVPS(t, mk, at(xp, i, 0))
			VANDPS(mk, t, t) // 0·a is NaN for an infinite a
		}
		square(t)
	}, func() {
		hi := YMM()
		VEXTRACTF128(U8(1), acc, hi.AsX())       // s2, s3
		VHADDPD(hi.AsX(), acc.AsX(), acc.AsX())  // s0+s1, s2+s3
		VHADDPD(acc.AsX(), acc.AsX(), acc.AsX()) // (s0+s1)+(s2+s3)
		Store(acc.AsX(), ReturnIndex(0))
	})
}

// genScaleSumSquares4 writes scaleSumSquares4AVX2: rows r < 4 of the matrix
// x (row stride ld, n a multiple of 8) are scaled by a[r] and ss[r] set to
// the sum of squares of the scaled row, each row exactly as
// scaleSumSquaresAVX2 does it (its own 4 float64 lanes, the low then the
// high half of each 8 floats, the same final reduction). The four rows'
// chains of FMAs are independent, so they overlap where one row's chain
// waits on the FMA latency (one 64-float row alone: ~80 cycles).
func genScaleSumSquares4() {
	TEXT("scaleSumSquares4AVX2", NOSPLIT, "func(a []float32, x []float32, ld, n int, ss []float64)")
	Pragma("noescape")
	Doc("scaleSumSquares4AVX2 sets x[r*ld+i] *= a[r] and ss[r] = Σ_i x[r*ld+i]² (float64, as scaleSumSquaresAVX2) for r < 4, i < n (a multiple of 8; see ScaleSumSquaresRows).")
	ap := Load(Param("a").Base(), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	ptr := make([]reg.Register, 4)
	ptr[0] = Load(Param("x").Base(), GP64())
	for r := 1; r < 4; r++ {
		ptr[r] = GP64()
		LEAQ(Mem{Base: ptr[r-1], Index: ld, Scale: 1}, ptr[r])
	}
	av, acc := make([]reg.VecVirtual, 4), make([]reg.VecVirtual, 4)
	for r := range 4 {
		av[r], acc[r] = YMM(), YMM()
		VBROADCASTSS(Mem{Base: ap, Disp: 4 * r}, av[r])
		VXORPD(acc[r], acc[r], acc[r])
	}
	n := Load(Param("n"), GP64())
	Label("ss4_loop")
	TESTQ(n, n)
	JZ(LabelRef("ss4_done"))
	t := make([]reg.VecVirtual, 4)
	for r := range 4 {
		t[r] = YMM()
		VMULPS(Mem{Base: ptr[r]}, av[r], t[r])
		VMOVUPS(t[r], Mem{Base: ptr[r]})
	}
	for half := range 2 {
		for r := range 4 {
			u := YMM()
			if half == 0 {
				VCVTPS2PD(t[r].AsX(), u)
			} else {
				h := YMM()
				VEXTRACTF128(U8(1), t[r], h.AsX())
				VCVTPS2PD(h.AsX(), u)
			}
			VFMADD231PD(u, u, acc[r])
		}
	}
	for r := range 4 {
		ADDQ(U8(32), ptr[r])
	}
	SUBQ(U8(8), n)
	JMP(LabelRef("ss4_loop"))
	Label("ss4_done")
	ssp := Load(Param("ss").Base(), GP64())
	for r := range 4 {
		hi := YMM()
		VEXTRACTF128(U8(1), acc[r], hi.AsX())             // s2, s3
		VHADDPD(hi.AsX(), acc[r].AsX(), acc[r].AsX())     // s0+s1, s2+s3
		VHADDPD(acc[r].AsX(), acc[r].AsX(), acc[r].AsX()) // (s0+s1)+(s2+s3)
		VMOVSD(acc[r].AsX(), Mem{Base: ssp, Disp: 8 * r})
	}
	VZEROUPPER()
	RET()
}
