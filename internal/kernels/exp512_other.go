//go:build !amd64 || purego

package kernels

// The AVX-512 exps and column softmax (zexp512_amd64.s): never called here,
// where impl is always implGo.

func expShiftSumAVX512(dst, src []float32, shift float32) float32 { panic("kernels: no AVX-512") }
func expShiftSumTAVX512(dst, src []float32, shift float32) (sum, t float32) {
	panic("kernels: no AVX-512")
}
func colMaxCountAVX512(mx []float32, cnt []int32, s []float32, lds, m, n int) {
	panic("kernels: no AVX-512")
}
func colExpShiftSumAVX512(p []float32, ldp int, s []float32, lds, m, n int, shift, sum []float32) {
	panic("kernels: no AVX-512")
}
func colExpShiftSumTAVX512(p []float32, ldp int, s []float32, lds, m, n int, shift, sum, t []float32) {
	panic("kernels: no AVX-512")
}
