//go:build !amd64 || purego

package kernels

// No half-precision SIMD kernels here (see simd_other.go): never called.

func widenF16AVX2(dst []float32, src []uint16)                  { panic("kernels: no AVX2") }
func widenBF16AVX2(dst []float32, src []uint16)                 { panic("kernels: no AVX2") }
func gemv8F16AVX2(c []float32, a []float32, b []uint16, k int)  { panic("kernels: no AVX2") }
func gemv8BF16AVX2(c []float32, a []float32, b []uint16, k int) { panic("kernels: no AVX2") }
