package kernels

import "sync"

// Half names a half-precision storage format of float32 values.
type Half uint8

const (
	F16  Half = iota // IEEE 754 binary16
	BF16             // bfloat16 (the top half of a binary32)
)

func (h Half) String() string {
	if h == BF16 {
		return "bf16"
	}
	return "f16"
}

// Widen converts src to dst (F16SliceToF32 or BF16SliceToF32).
func (h Half) Widen(dst []float32, src []uint16) {
	if h == BF16 {
		BF16SliceToF32(dst, src)
		return
	}
	F16SliceToF32(dst, src)
}

// MatMulTransBHalf computes c = a·bᵀ + bias as MatMulTransB does, with b
// (n, k) stored in the half-precision format h and every product and sum in
// float32 (FMA on the AVX2 path). Widening is exact, so c has exactly the
// bits of MatMulTransB(pool, c, a, w, bias, m, n, k) where w is b widened
// to float32, on the same path (same per-element order, same independence
// of the pool, of m and n and of the element's position), without ever
// widening the whole of b:
//
//   - AVX2, m ≤ halfGemvMaxM (decoding): the matrix–vector kernels
//     gemv8F16AVX2 and gemv8BF16AVX2 read eight rows of b at a time and widen
//     them in registers (gemv8AVX2's order); the last n%8 rows of a block go
//     the way below.
//   - otherwise: up to halfWC rows of b at a time are widened into a scratch
//     block (from a sync.Pool, so steady state allocates nothing) that
//     MatMulTransB's block kernel then multiplies; a block of rows of a
//     widens each row of b once.
func MatMulTransBHalf(pool *Pool, c, a []float32, b []uint16, h Half, bias []float32, m, n, k int) {
	checkMatMul("MatMulTransBHalf", len(a), len(b), len(c), bias, m, n, k)
	if m == 0 || n == 0 {
		return
	}
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	if bias != nil {
		bias = bias[:n]
	}
	mb := (m + gemmMC - 1) / gemmMC
	nb := (n + gemmNC - 1) / gemmNC
	if p := pool.For(int64(m) * int64(n) * int64(k)); p != nil && mb*nb > 1 {
		p.Run(mb*nb, func(_, t int) {
			i0, j0 := (t/nb)*gemmMC, (t%nb)*gemmNC
			halfBlock(c, a, b, h, bias, n, k, i0, min(i0+gemmMC, m), j0, min(j0+gemmNC, n))
		})
		return
	}
	for i0 := 0; i0 < m; i0 += gemmMC { // small: on the caller, no closure to allocate
		for j0 := 0; j0 < n; j0 += gemmNC {
			halfBlock(c, a, b, h, bias, n, k, i0, min(i0+gemmMC, m), j0, min(j0+gemmNC, n))
		}
	}
}

// halfGemvMaxM is the largest m (rows of a in a block) for which
// MatMulTransBHalf runs the in-register matrix–vector kernels.
const halfGemvMaxM = 1

// halfWC is how many rows of b the widening path widens at a time: a
// multiple of 12, so the float32 tiles of both paths cover it.
const halfWC = 24

// halfBlock computes c[i0:i1, j0:j1] (see MatMulTransBHalf).
func halfBlock(c, a []float32, b []uint16, h Half, bias []float32, n, k, i0, i1, j0, j1 int) {
	if impl.simd() && k > 0 && i1-i0 <= halfGemvMaxM {
		gemv := gemv8F16AVX2
		if h == BF16 {
			gemv = gemv8BF16AVX2
		}
		j8 := j0 + (j1-j0)&^7
		if j8 > j0 {
			for i := i0; i < i1; i++ {
				gemv(c[i*n+j0:i*n+j8], a[i*k:(i+1)*k], b[j0*k:j8*k], k)
			}
			addBias(c, bias, n, i0, i1, j0, j8)
		}
		j0 = j8
		if j0 == j1 {
			return
		}
	}
	widenedBlock(c, a, b, h, bias, n, k, i0, i1, j0, j1)
}

// halfScratch lends the widening path its float32 rows of b.
var halfScratch = sync.Pool{New: func() any { return new([]float32) }}

// widenedBlock computes c[i0:i1, j0:j1] by widening halfWC rows of b at a
// time and running MatMulTransB's block kernel on them, as a block whose
// columns start at 0 (c, b and bias shifted by the first row's index).
func widenedBlock(c, a []float32, b []uint16, h Half, bias []float32, n, k, i0, i1, j0, j1 int) {
	sp := halfScratch.Get().(*[]float32)
	if cap(*sp) < halfWC*k {
		*sp = make([]float32, halfWC*k)
	}
	w := (*sp)[:halfWC*k]
	block := blockFor(i1-i0, k)
	for j := j0; j < j1; j += halfWC {
		cols := min(halfWC, j1-j)
		h.Widen(w[:cols*k], b[j*k:(j+cols)*k])
		var bj []float32
		if bias != nil {
			bj = bias[j:]
		}
		block(c[j:], a, w[:cols*k], bj, n, k, i0, i1, 0, cols)
	}
	halfScratch.Put(sp)
}
