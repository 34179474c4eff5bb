package main

import "github.com/headlight/headlight/internal/kernels"

// fmaLoop runs n iterations of 12 independent 8-lane FMAs (fma_amd64.s).
// It needs AVX2+FMA.
//
//go:noescape
func fmaLoop(n int)

// fmaLoop512 runs n iterations of 12 independent 16-lane FMAs on zmm
// registers (fma_amd64.s). It needs AVX-512F.
//
//go:noescape
func fmaLoop512(n int)

// pickProbe returns the FMA loop of the kernels' path (the zmm probe when
// the kernels run AVX-512, the ymm probe otherwise), its float32 flops per
// iteration, and what it runs.
func pickProbe() (loop func(int), flopsPerIter int, desc string) {
	if kernels.Impl() == "avx512" {
		return fmaLoop512, 12 * 16 * 2, "amd64 asm: 12 independent VFMADD231PS zmm chains (16 lanes × 2 flops each)"
	}
	return fmaLoop, 12 * 8 * 2, "amd64 asm: 12 independent VFMADD231PS ymm chains (8 lanes × 2 flops each)"
}
