// Package kernels holds Headlight's numeric inner loops: dot products, axpy,
// the matrix products the projections need, a float32 exp, half-precision
// conversions and the persistent worker pool that every parallel op uses.
//
// Every kernel is written first as a plain Go loop whose doc comment is the
// reference definition. SIMD versions (issue 5) keep these pure-Go twins; the
// `purego` build tag forces the twins.
//
// Paths: on amd64 with AVX2 and FMA (golang.org/x/sys/cpu, checked once at
// start-up), Dot, Axpy, Scale, ExpShiftSum(T), MatMulTransB (with a
// matrix–vector kernel for m = 1), DotRows and AxpyRows on rows of 8, and the
// attention tiles (MatMulRows, MatMulAddRows, Transpose, MaxCount, PrefetchRows), the
// half-precision widening (F16SliceToF32 with F16C, BF16SliceToF32) and
// MatMulTransBHalf's matrix–vector kernels (weights widened in registers) run Go assembly
// generated with avo by ./asm (files z*_amd64.s; `go generate` rewrites
// them). Everything else, and every kernel elsewhere, runs the twins. Impl
// names the path in use. The SIMD paths sum in other (documented, fixed)
// orders than the twins, so results may differ from the twins' in the last
// bits, never from run to run or with the thread count.
package kernels
