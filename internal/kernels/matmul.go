package kernels

import "fmt"

// MatMulTransB computes c = a·bᵀ + bias, the product a torch.nn.Linear layer
// makes with weight b:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += a[i*k+p] * b[j*k+p]
//			}
//			c[i*n+j] = s + bias[j] // or s when bias is nil
//		}
//	}
//
// a is (m, k), b is (n, k), c is (m, n), all row-major; bias is nil or (n).
// Only c[:m*n] is written. Blocks of c are computed on pool (nil runs on the
// caller); each element is computed by exactly one worker, in the order of the
// loop above (one float32 accumulator, p increasing, bias added last), so the
// result does not depend on the pool, on m or n, or on where the element lies
// in c. (Where the compiler fuses s += x*y into an FMA, as on arm64, every
// element is fused alike.)
//
// The AVX2 path (amd64, see Impl) sums each element in another fixed order,
// the same for every element: lane p%8 of one 8-lane accumulator takes
// a[i*k+p]*b[j*k+p] with one FMA for p increasing (the last k%8 products
// through masked loads), the lanes are reduced as Dot's lanes are, and the
// bias is added last. The same independence holds: an element's bits do not
// depend on the pool, on m or n, or on its position in c. (m = 1, as in
// decoding, runs the matrix–vector kernel gemv8AVX2 instead of the tiles: the
// same order, eight rows of b at a time.)
func MatMulTransB(pool *Pool, c, a, b, bias []float32, m, n, k int) {
	checkMatMul("MatMulTransB", len(a), len(b), len(c), bias, m, n, k)
	if m == 0 || n == 0 {
		return
	}
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	if bias != nil {
		bias = bias[:n]
	}
	mb := (m + gemmMC - 1) / gemmMC
	nb := (n + gemmNC - 1) / gemmNC
	block := blockFor(m, k)
	if p := pool.For(int64(m) * int64(n) * int64(k)); p != nil && mb*nb > 1 {
		p.Run(mb*nb, func(_, t int) {
			i0, j0 := (t/nb)*gemmMC, (t%nb)*gemmNC
			block(c, a, b, bias, n, k, i0, min(i0+gemmMC, m), j0, min(j0+gemmNC, n))
		})
		return
	}
	for i0 := 0; i0 < m; i0 += gemmMC { // small: on the caller, no closure to allocate
		for j0 := 0; j0 < n; j0 += gemmNC {
			block(c, a, b, bias, n, k, i0, min(i0+gemmMC, m), j0, min(j0+gemmNC, n))
		}
	}
}

// checkMatMul panics unless an (m, k) a, an (n, k) b, an (m, n) c and a nil
// or (n) bias fit in slices of the given lengths.
func checkMatMul(name string, la, lb, lc int, bias []float32, m, n, k int) {
	if m < 0 || n < 0 || k < 0 || !fits(la, m, k) || !fits(lb, n, k) || !fits(lc, m, n) ||
		(bias != nil && len(bias) < n) {
		panic(fmt.Sprintf("kernels.%s: bad sizes m=%d n=%d k=%d len(a)=%d len(b)=%d len(c)=%d len(bias)=%d",
			name, m, n, k, la, lb, lc, len(bias)))
	}
}

// blockFor returns the block kernel MatMulTransB runs for m rows of a and
// depth k on the current path.
func blockFor(m, k int) func(c, a, b, bias []float32, n, k, i0, i1, j0, j1 int) {
	if impl.simd() && k > 0 {
		if m <= gemvMaxM {
			return gemvBlockAVX2
		}
		return gemmBlockAVX2
	}
	return gemmBlock
}

// fits reports whether an (r, s) matrix fits in l elements, without
// overflowing r*s. r and s must be ≥ 0.
func fits(l, r, s int) bool {
	return s == 0 || r <= l/s
}

// Blocking. A pool task owns a gemmMC×gemmNC block of c, so its elements never
// depend on the thread count. Within a task the k dimension is cut into gemmKC
// slices: one row pair of a (2·gemmKC floats) stays in L1 while it meets every
// row triple of b's slice (gemmNC·gemmKC floats, in L2). The partial sums of a
// slice are stored in c and reloaded for the next one, which keeps the
// summation order of the reference loop. gemmNC is a multiple of 12 so both
// the 2×3 and the 1×4 kernels tile a full block.
const (
	gemmMC = 32
	gemmNC = 96
	gemmKC = 256
)

// gemmBlock computes c[i0:i1, j0:j1] (see MatMulTransB).
func gemmBlock(c, a, b, bias []float32, n, k, i0, i1, j0, j1 int) {
	if k == 0 {
		for i := i0; i < i1; i++ {
			clear(c[i*n+j0 : i*n+j1])
		}
	}
	for p0 := 0; p0 < k; p0 += gemmKC {
		p1 := min(p0+gemmKC, k)
		acc := p0 > 0 // continue the sums stored in c
		i := i0
		for ; i+2 <= i1; i += 2 {
			a0 := a[i*k+p0 : i*k+p1]
			a1 := a[(i+1)*k+p0 : (i+1)*k+p1]
			c0 := c[i*n : i*n+j1]
			c1 := c[(i+1)*n : (i+1)*n+j1]
			j := j0
			for ; j+3 <= j1; j += 3 {
				kernel2x3(c0[j:j+3], c1[j:j+3], a0, a1,
					b[j*k+p0:j*k+p1], b[(j+1)*k+p0:(j+1)*k+p1], b[(j+2)*k+p0:(j+2)*k+p1], acc)
			}
			for ; j < j1; j++ {
				kernel2x1(c0[j:j+1], c1[j:j+1], a0, a1, b[j*k+p0:j*k+p1], acc)
			}
		}
		if i < i1 { // odd row
			a0 := a[i*k+p0 : i*k+p1]
			c0 := c[i*n : i*n+j1]
			j := j0
			for ; j+4 <= j1; j += 4 {
				kernel1x4(c0[j:j+4], a0,
					b[j*k+p0:j*k+p1], b[(j+1)*k+p0:(j+1)*k+p1], b[(j+2)*k+p0:(j+2)*k+p1], b[(j+3)*k+p0:(j+3)*k+p1], acc)
			}
			for ; j < j1; j++ {
				s := float32(0)
				if acc {
					s = c0[j]
				}
				c0[j] = dotSeq(s, a0, b[j*k+p0:j*k+p1])
			}
		}
	}
	addBias(c, bias, n, i0, i1, j0, j1)
}

// The kernels below all accumulate one element in one float32 variable, with
// p increasing, starting from 0 or (acc) from the value already in c.
//
// Why 2×3 and not a bigger tile: the Go scheduler issues all the products of an
// iteration before the sums, so a tile needs 2·rows·cols float registers; 2×3
// is the largest that fits amd64's 15 without spills (2×4 ran at ~55% of the
// speed of 2×3, 3×4 and 4×4 slower still). Packing panels was also slower:
// the strided index arithmetic cost more than the extra row pointers.

// kernel2x3 computes the 2×3 tile c0[0:3], c1[0:3] from rows a0, a1 of a and
// rows b0, b1, b2 of b (all of length len(a0)).
func kernel2x3(c0, c1, a0, a1, b0, b1, b2 []float32, acc bool) {
	c0, c1 = c0[:3], c1[:3]
	var c00, c01, c02, c10, c11, c12 float32
	if acc {
		c00, c01, c02 = c0[0], c0[1], c0[2]
		c10, c11, c12 = c1[0], c1[1], c1[2]
	}
	a1 = a1[:len(a0)]
	b0 = b0[:len(a0)]
	b1 = b1[:len(a0)]
	b2 = b2[:len(a0)]
	for p, x0 := range a0 {
		x1 := a1[p]
		y0, y1, y2 := b0[p], b1[p], b2[p]
		c00 += x0 * y0
		c01 += x0 * y1
		c02 += x0 * y2
		c10 += x1 * y0
		c11 += x1 * y1
		c12 += x1 * y2
	}
	c0[0], c0[1], c0[2] = c00, c01, c02
	c1[0], c1[1], c1[2] = c10, c11, c12
}

// kernel2x1 computes c0[0] and c1[0] from rows a0, a1 of a and row b0 of b.
func kernel2x1(c0, c1, a0, a1, b0 []float32, acc bool) {
	c0, c1 = c0[:1], c1[:1]
	var s0, s1 float32
	if acc {
		s0, s1 = c0[0], c1[0]
	}
	a1 = a1[:len(a0)]
	b0 = b0[:len(a0)]
	for p, x0 := range a0 {
		y := b0[p]
		s0 += x0 * y
		s1 += a1[p] * y
	}
	c0[0], c1[0] = s0, s1
}

// kernel1x4 computes c0[0:4] from row a0 of a and rows b0..b3 of b.
func kernel1x4(c0, a0, b0, b1, b2, b3 []float32, acc bool) {
	c0 = c0[:4]
	var s0, s1, s2, s3 float32
	if acc {
		s0, s1, s2, s3 = c0[0], c0[1], c0[2], c0[3]
	}
	b0 = b0[:len(a0)]
	b1 = b1[:len(a0)]
	b2 = b2[:len(a0)]
	b3 = b3[:len(a0)]
	for p, x := range a0 {
		s0 += x * b0[p]
		s1 += x * b1[p]
		s2 += x * b2[p]
		s3 += x * b3[p]
	}
	c0[0], c0[1], c0[2], c0[3] = s0, s1, s2, s3
}

// dotSeq returns s + Σ x[p]*y[p], summed left to right in one accumulator.
func dotSeq(s float32, x, y []float32) float32 {
	y = y[:len(x)]
	for p, v := range x {
		s += v * y[p]
	}
	return s
}

// gemmBlockAVX2 computes c[i0:i1, j0:j1] (see MatMulTransB) with the AVX2
// tiles: 4 rows of a × 3 rows of b, smaller tiles at the block's edges. Every
// tile runs over the whole of k (no k-slices: a slice's 8-lane partial sums
// could not be kept in c), in the same per-element order. k must be > 0.
func gemmBlockAVX2(c, a, b, bias []float32, n, k, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i += 4 {
		r := min(4, i1-i)
		ai := a[i*k : (i+r)*k]
		for j := j0; j < j1; j += 3 {
			cols := min(3, j1-j)
			// The slices bound what the tile reads and writes: rows i…i+r-1
			// of a, j…j+cols-1 of b, and c[(i+r-1)*n+j+cols-1] last.
			gemmTiles[r-1][cols-1](c[i*n+j:(i+r-1)*n+j+cols], n, ai, b[j*k:(j+cols)*k], k)
		}
	}
	addBias(c, bias, n, i0, i1, j0, j1)
}

// addBias adds bias[j] to c[i*n+j] for i0 ≤ i < i1, j0 ≤ j < j1 (nothing if
// bias is nil).
func addBias(c, bias []float32, n, i0, i1, j0, j1 int) {
	if bias == nil {
		return
	}
	bj := bias[j0:j1]
	for i := i0; i < i1; i++ {
		Axpy(1, bj, c[i*n+j0:i*n+j1]) // 1·b + c rounds once to b + c, fused or not
	}
}

// gemvMaxM is the largest m for which MatMulTransB runs gemvBlockAVX2 (one
// token, as in decoding: b streams once through eight accumulators). From
// m = 2 on the 4×3 and 2×3 tiles, which read b once for several rows of a,
// were faster on (m×768)·(768×768)ᵀ with b in cache (BenchmarkMatVec).
const gemvMaxM = 1

// gemvBlockAVX2 computes c[i0:i1, j0:j1] (see MatMulTransB) one row of a at
// a time: gemv8AVX2 on the columns in groups of 8, the 1×3 and 1×1 tiles on
// the last (j1-j0)%8, all in the tiles' per-element order. k must be > 0.
func gemvBlockAVX2(c, a, b, bias []float32, n, k, i0, i1, j0, j1 int) {
	j8 := j0 + (j1-j0)&^7
	for i := i0; i < i1; i++ {
		ai := a[i*k : (i+1)*k]
		if j8 > j0 {
			gemv8AVX2(c[i*n+j0:i*n+j8], ai, b[j0*k:j8*k], k)
		}
		for j := j8; j < j1; j += 3 {
			cols := min(3, j1-j)
			gemmTiles[0][cols-1](c[i*n+j:i*n+j+cols], n, ai, b[j*k:(j+cols)*k], k)
		}
	}
	addBias(c, bias, n, i0, i1, j0, j1)
}
