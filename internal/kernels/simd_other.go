//go:build !amd64 || purego

package kernels

// No SIMD kernels here (another architecture, or the purego tag): impl is
// always implGo, so the functions below are never called.
const haveAVX2 = false

var gemmTiles [4][3]func(c []float32, ldc int, a, b []float32, k int)

func dotAVX2(x, y []float32) float32                                      { panic("kernels: no AVX2") }
func axpyAVX2(a float32, x, y []float32)                                  { panic("kernels: no AVX2") }
func scaleAVX2(a float32, x []float32)                                    { panic("kernels: no AVX2") }
func expShiftSumAVX2(dst, src []float32, shift float32) float32           { panic("kernels: no AVX2") }
func expShiftSumTAVX2(dst, src []float32, shift float32) (sum, t float32) { panic("kernels: no AVX2") }
