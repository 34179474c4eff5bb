package main

// fmaProbe names what fmaLoop runs.
const fmaProbe = "amd64 asm: 12 independent VFMADD231PS ymm chains (8 lanes × 2 flops each)"

// fmaFlopsPerIter is the float32 flops one iteration of fmaLoop performs.
const fmaFlopsPerIter = 12 * 8 * 2

// fmaLoop runs n iterations of 12 independent 8-lane FMAs (fma_amd64.s).
// It needs AVX2+FMA.
//
//go:noescape
func fmaLoop(n int)
