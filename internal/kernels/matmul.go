package kernels

import "fmt"

// MatMulTransB computes c = a·bᵀ + bias, the product a torch.nn.Linear layer
// makes with weight b:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			c[i*n+j] = bias[j] + Σ_p a[i*k+p] * b[j*k+p]
//		}
//	}
//
// a is (m, k), b is (n, k), c is (m, n), all row-major; bias is nil or (n).
// Rows of c are computed in blocks on pool (nil runs on the caller).
func MatMulTransB(pool *Pool, c, a, b, bias []float32, m, n, k int) {
	if len(a) < m*k || len(b) < n*k || len(c) < m*n || (bias != nil && len(bias) < n) || m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.MatMulTransB: bad sizes m=%d n=%d k=%d len(a)=%d len(b)=%d len(c)=%d", m, n, k, len(a), len(b), len(c)))
	}
	const rowBlock, colBlock = 16, 64
	mb := (m + rowBlock - 1) / rowBlock
	nb := (n + colBlock - 1) / colBlock
	pool.Run(mb*nb, func(_, t int) {
		i0 := (t / nb) * rowBlock
		j0 := (t % nb) * colBlock
		i1 := min(i0+rowBlock, m)
		j1 := min(j0+colBlock, n)
		gemmBlock(c, a, b, bias, n, k, i0, i1, j0, j1)
	})
}

// gemmBlock computes c[i0:i1, j0:j1] with a 2×4 register tile.
func gemmBlock(c, a, b, bias []float32, n, k, i0, i1, j0, j1 int) {
	i := i0
	for ; i+2 <= i1; i += 2 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		j := j0
		for ; j+4 <= j1; j += 4 {
			b0 := b[j*k : j*k+k]
			b1 := b[(j+1)*k : (j+1)*k+k]
			b2 := b[(j+2)*k : (j+2)*k+k]
			b3 := b[(j+3)*k : (j+3)*k+k]
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p, x0 := range a0 {
				x1 := a1[p]
				y0, y1, y2, y3 := b0[p], b1[p], b2[p], b3[p]
				c00 += x0 * y0
				c01 += x0 * y1
				c02 += x0 * y2
				c03 += x0 * y3
				c10 += x1 * y0
				c11 += x1 * y1
				c12 += x1 * y2
				c13 += x1 * y3
			}
			if bias != nil {
				c00 += bias[j]
				c01 += bias[j+1]
				c02 += bias[j+2]
				c03 += bias[j+3]
				c10 += bias[j]
				c11 += bias[j+1]
				c12 += bias[j+2]
				c13 += bias[j+3]
			}
			c[i*n+j], c[i*n+j+1], c[i*n+j+2], c[i*n+j+3] = c00, c01, c02, c03
			c[(i+1)*n+j], c[(i+1)*n+j+1], c[(i+1)*n+j+2], c[(i+1)*n+j+3] = c10, c11, c12, c13
		}
		for ; j < j1; j++ {
			bj := b[j*k : j*k+k]
			var s0, s1 float32
			for p, y := range bj {
				s0 += a0[p] * y
				s1 += a1[p] * y
			}
			if bias != nil {
				s0 += bias[j]
				s1 += bias[j]
			}
			c[i*n+j], c[(i+1)*n+j] = s0, s1
		}
	}
	for ; i < i1; i++ {
		ai := a[i*k : i*k+k]
		for j := j0; j < j1; j++ {
			s := Dot(ai, b[j*k:j*k+k])
			if bias != nil {
				s += bias[j]
			}
			c[i*n+j] = s
		}
	}
}
