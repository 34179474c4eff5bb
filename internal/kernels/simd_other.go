//go:build !amd64 || purego

package kernels

// No SIMD kernels here (another architecture, or the purego tag): impl is
// always implGo, so the functions below are never called.
const (
	haveAVX2   = false
	haveAVX512 = false
)

var gemmTiles [4][3]func(c []float32, ldc int, a, b []float32, k int)

func dotAVX2(x, y []float32) float32     { panic("kernels: no AVX2") }
func axpyAVX2(a float32, x, y []float32) { panic("kernels: no AVX2") }
func scaleAVX2(a float32, x []float32)   { panic("kernels: no AVX2") }
func sumSquaresAVX2(x []float32) float64 { panic("kernels: no AVX2") }
func logAVX2(dst, src []float32)         { panic("kernels: no AVX2") }
func scaleSumSquaresAVX2(a float32, x []float32) float64 {
	panic("kernels: no AVX2")
}
func scaleSumSquares4AVX2(a []float32, x []float32, ld, n int, ss []float64) {
	panic("kernels: no AVX2")
}
func dotRows8AVX2(dst []float32, scale float32, x, a []float32, stride int) {
	panic("kernels: no AVX2")
}
func axpyRows8AVX2(y, w, a []float32, stride int)                         { panic("kernels: no AVX2") }
func gemv8AVX2(c, a, b []float32, k int)                                  { panic("kernels: no AVX2") }
func expShiftSumAVX2(dst, src []float32, shift float32) float32           { panic("kernels: no AVX2") }
func expShiftSumTAVX2(dst, src []float32, shift float32) (sum, t float32) { panic("kernels: no AVX2") }

var mmTiles [3][MMRows + 1]func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k int, alpha float32)

func colMaxCountAVX2(mx []float32, cnt []int32, s []float32, lds, m, n int) {
	panic("kernels: no AVX2")
}
func colExpShiftSumAVX2(p []float32, ldp int, s []float32, lds, m, n int, shift, sum []float32) {
	panic("kernels: no AVX2")
}
func colExpShiftSumTAVX2(p []float32, ldp int, s []float32, lds, m, n int, shift, sum, t []float32) {
	panic("kernels: no AVX2")
}
func transposeAVX2(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	panic("kernels: no AVX2")
}
func maxCountAVX2(x []float32, negInf float32) (mx float32, ninf int) { panic("kernels: no AVX2") }
func prefetchRowsAVX2(x []float32, stride, rows, width int)           { panic("kernels: no AVX2") }

func gemvPanels1AVX2(c, a, w []float32, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels2AVX2(c, a, w []float32, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels3AVX2(c, a, w []float32, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels4AVX2(c, a, w []float32, k, stride int) { panic("kernels: no AVX2") }

func gemvPanels1F16AVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels2F16AVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels3F16AVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels4F16AVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels1BF16AVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels2BF16AVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels3BF16AVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels4BF16AVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }

func mmScaleAVX2(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k int, alpha float32) {
	panic("kernels: no AVX2")
}
func mmScale4AVX2(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k int, alpha float32) {
	panic("kernels: no AVX2")
}
func mmScale2AVX2(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k int, alpha float32) {
	panic("kernels: no AVX2")
}
func mmScale1AVX2(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, n, k int, alpha float32) {
	panic("kernels: no AVX2")
}

// The prefetching matrix–vector kernels (gemvPanels*PFAVX2).
func gemvPanels1PFAVX2(c, a, w []float32, k, stride int)              { panic("kernels: no AVX2") }
func gemvPanels2PFAVX2(c, a, w []float32, k, stride int)              { panic("kernels: no AVX2") }
func gemvPanels3PFAVX2(c, a, w []float32, k, stride int)              { panic("kernels: no AVX2") }
func gemvPanels4PFAVX2(c, a, w []float32, k, stride int)              { panic("kernels: no AVX2") }
func gemvPanels1F16PFAVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels2F16PFAVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels3F16PFAVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels4F16PFAVX2(c, a []float32, w []uint16, k, stride int)  { panic("kernels: no AVX2") }
func gemvPanels1BF16PFAVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels2BF16PFAVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels3BF16PFAVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
func gemvPanels4BF16PFAVX2(c, a []float32, w []uint16, k, stride int) { panic("kernels: no AVX2") }
