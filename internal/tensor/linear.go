package tensor

import (
	"fmt"

	"github.com/headlight/headlight/internal/kernels"
)

// half is the kernels' name of a half-precision DType.
func (d DType) half() kernels.Half {
	if d == BF16 || d == BF16Dot {
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

// Linear is one product of MatMulTransBShared: C = a·Wᵀ + Bias, C (m, N).
type Linear struct {
	C    []float32 // (m, N) output
	W    Store     // (N, k) weights
	Bias []float32 // (N) or nil
	N    int
}

// MatMulTransBShared computes every product of ls from the same a (m, k),
// each with MatMulTransB's bits. When every W is packed, they run as one
// pool job (kernels.MatMulPanelsShared): a layer's query, key and value
// projections, or a SwiGLU's W1 and W3, cost one hand-off to the pool's
// helpers instead of one each. Otherwise they run one after the other.
func MatMulTransBShared(pool *kernels.Pool, a []float32, m, k int, ls ...Linear) {
	var ps [4]kernels.PanelsProduct
	if len(ls) <= len(ps) {
		packed := true
		for i, l := range ls {
			if l.W.panels == nil {
				packed = false
				break
			}
			if l.W.panels.N != l.N || l.W.panels.K != k {
				panic(fmt.Sprintf("tensor.MatMulTransBShared: weights packed as (%d, %d), used as (%d, %d)", l.W.panels.N, l.W.panels.K, l.N, k))
			}
			ps[i] = kernels.PanelsProduct{C: l.C, W: l.W.panels, Bias: l.Bias}
		}
		if packed {
			kernels.MatMulPanelsShared(pool, a, m, ps[:len(ls)]...)
			return
		}
	}
	for _, l := range ls {
		MatMulTransB(pool, l.C, a, l.W, l.Bias, m, l.N, k)
	}
}
