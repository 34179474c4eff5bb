//go:build !amd64

package main

import "math"

// pickProbe returns the scalar loop below, its flops per iteration and what
// it runs (no SIMD probe on this architecture).
func pickProbe() (loop func(int), flopsPerIter int, desc string) {
	return fmaLoop, 8 * 2, "pure Go: 8 independent scalar math.FMA chains in float64 (not a SIMD peak)"
}

var sink float64

func fmaLoop(n int) {
	var a0, a1, a2, a3, a4, a5, a6, a7 float64
	x, y := 1.0000001, 0.9999999
	for i := 0; i < n; i++ {
		a0, a1, a2, a3 = math.FMA(x, y, a0), math.FMA(x, y, a1), math.FMA(x, y, a2), math.FMA(x, y, a3)
		a4, a5, a6, a7 = math.FMA(x, y, a4), math.FMA(x, y, a5), math.FMA(x, y, a6), math.FMA(x, y, a7)
	}
	sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}
