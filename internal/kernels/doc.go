// Package kernels holds Headlight's numeric inner loops: dot products, axpy,
// the matrix products the projections need, a float32 exp, half-precision
// conversions and the persistent worker pool that every parallel op uses.
//
// Every kernel is written first as a plain Go loop whose doc comment is the
// reference definition. SIMD versions (issue 5) must keep these pure-Go twins;
// the `purego` build tag forces the twins.
package kernels
