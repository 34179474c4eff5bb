package tensor

import (
	"fmt"

	"github.com/headlight/headlight/internal/kernels"
)

// half is the kernels' name of a half-precision DType.
func (d DType) half() kernels.Half {
	if d == BF16 {
		return kernels.BF16
	}
	return kernels.F16
}

// GetRows widens rows of width elements, stride apart from off, into dst:
// dst[r*width:(r+1)*width] = elements [off+r*stride, off+r*stride+width)
// for r < rows. Contiguous rows (stride == width) widen in one kernel call.
func (s Store) GetRows(off, stride, rows, width int, dst []float32) {
	if rows <= 0 {
		return
	}
	if len(dst) < rows*width || off < 0 || off+(rows-1)*stride+width > s.Len() {
		panic(fmt.Sprintf("tensor.Store.GetRows: %d rows of %d, stride %d, from %d of %d into %d", rows, width, stride, off, s.Len(), len(dst)))
	}
	if stride == width {
		s.Get(off, dst[:rows*width])
		return
	}
	for r := range rows {
		s.Get(off+r*stride, dst[r*width:(r+1)*width])
	}
}

// MatMulTransB computes c = a·wᵀ + bias (kernels.MatMulTransB's shapes and
// order) with the weights w (n, k) in any DType: float32 through
// kernels.MatMulTransB, half precision through kernels.MatMulTransBHalf
// (float32 accumulation, the bits of the float32 product on the widened
// weights).
//
// Packed weights (PackF32) go through kernels.MatMulPanels; n and k must be
// the shape they were packed with.
func MatMulTransB(pool *kernels.Pool, c, a []float32, w Store, bias []float32, m, n, k int) {
	if w.panels != nil {
		if w.panels.N != n || w.panels.K != k {
			panic(fmt.Sprintf("tensor.MatMulTransB: weights packed as (%d, %d), used as (%d, %d)", w.panels.N, w.panels.K, n, k))
		}
		kernels.MatMulPanels(pool, c, a, w.panels, bias, m)
		return
	}
	if w.dtype == F32 {
		kernels.MatMulTransB(pool, c, a, w.f32, bias, m, n, k)
		return
	}
	kernels.MatMulTransBHalf(pool, c, a, w.u16, w.dtype.half(), bias, m, n, k)
}
