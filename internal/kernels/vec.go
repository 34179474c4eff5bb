package kernels

import "fmt"

// Dot returns Σ x[i]*y[i].
//
//	for i := range x { s += x[i] * y[i] }
//
// It panics if the lengths differ. The sum is accumulated in four float32
// lanes: lane i%4 takes x[i]*y[i] for i < len(x)&^3 and lane 0 takes the last
// len(x)%4 products; the lanes are then added as (s0+s1)+(s2+s3). Results are
// therefore deterministic for a given length but are not the left-to-right
// float32 sum.
//
// The AVX2 path (amd64, see Impl) sums in a different order, so its results
// may differ from the twin's in the last bits; it is as deterministic (same
// inputs, same path: same bits, whatever the thread count). Element i is
// added with one FMA into lane i%8 of accumulator (i/8)%4 for i < n&^31, of
// accumulator 0 for i < n&^7, and of accumulator 1 for the last n%8; the
// accumulators are combined as (a0+a1)+(a2+a3) and the lanes l0…l7 as
// ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)).
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic("kernels.Dot: length mismatch")
	}
	if impl.simd() {
		return dotAVX2(x, y)
	}
	return dotGo(x, y)
}

// dotGo is the pure-Go twin of Dot (four lanes).
func dotGo(x, y []float32) float32 {
	var s0, s1, s2, s3 float32
	y = y[:len(x)]
	i := 0
	// i < len(x)-3 (not i+4 <= len(x)) lets the compiler drop the bounds
	// checks in this loop.
	for ; i < len(x)-3; i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy computes y += a*x.
//
//	for i := range x { y[i] += a * x[i] }
//
// It panics if the lengths differ. The AVX2 path rounds a*x[i] + y[i] once
// (FMA); the twin rounds the product and the sum where the compiler does not
// fuse them (amd64 below v3).
func Axpy(a float32, x, y []float32) {
	if len(x) != len(y) {
		panic("kernels.Axpy: length mismatch")
	}
	if impl.simd() {
		axpyAVX2(a, x, y)
		return
	}
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// Scale computes x *= a.
//
//	for i := range x { x[i] *= a }
func Scale(a float32, x []float32) {
	if impl.simd() {
		scaleAVX2(a, x)
		return
	}
	for i := range x {
		x[i] *= a
	}
}

// SumSquares returns Σ x[i]² accumulated in float64, in 4 lanes (4
// independent chains of additions instead of one):
//
//	for i := range x { s[i%4] += float64(x[i]) * float64(x[i]) }
//	return (s[0] + s[1]) + (s[2] + s[3])
//
// (Squares of float32 values are exact in float64.) Both paths add in this
// order: the AVX2 path keeps the four lanes in one vector and adds each
// square with one FMA, which rounds as the twin's addition does since the
// square is exact, so the paths agree bit for bit.
func SumSquares(x []float32) float64 {
	if impl.simd() {
		return sumSquaresAVX2(x)
	}
	return sumSquaresGo(x)
}

// sumSquaresGo is the pure-Go twin of SumSquares.
func sumSquaresGo(x []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += float64(v[0]) * float64(v[0])
		s1 += float64(v[1]) * float64(v[1])
		s2 += float64(v[2]) * float64(v[2])
		s3 += float64(v[3]) * float64(v[3])
	}
	for j, v := range x[i:] {
		switch j {
		case 0:
			s0 += float64(v) * float64(v)
		case 1:
			s1 += float64(v) * float64(v)
		default:
			s2 += float64(v) * float64(v)
		}
	}
	return (s0 + s1) + (s2 + s3)
}

// ScaleSumSquares computes x *= a and returns the SumSquares of the
// products, in one pass:
//
//	Scale(a, x); return SumSquares(x)
//
// with the same bits as those two calls on either path.
func ScaleSumSquares(a float32, x []float32) float64 {
	if impl.simd() {
		return scaleSumSquaresAVX2(a, x)
	}
	for i := range x {
		x[i] *= a
	}
	return sumSquaresGo(x)
}

// ScaleSumSquaresRows is ScaleSumSquares on each row r < rows of the (rows,
// n) matrix x with row stride ld, by its own factor a[r]:
//
//	for r := 0; r < rows; r++ { ss[r] = ScaleSumSquares(a[r], x[r*ld : r*ld+n]) }
//
// with each row's bits as ScaleSumSquares gives them. The AVX2 path runs four
// rows side by side when n is a multiple of 8 (the fused attention kernel's
// output rows: one row's sum is a chain of dependent FMAs). It panics if a
// slice is too short.
func ScaleSumSquaresRows(a, x []float32, ld, rows, n int, ss []float64) {
	if rows < 0 || n < 0 || len(a) < rows || len(ss) < rows || !fitsRows(len(x), rows, n, ld) {
		panic(fmt.Sprintf("kernels.ScaleSumSquaresRows: bad sizes rows=%d n=%d ld=%d len(a)=%d len(x)=%d len(ss)=%d",
			rows, n, ld, len(a), len(x), len(ss)))
	}
	r := 0
	if impl.simd() && n%8 == 0 && n > 0 {
		for ; r+4 <= rows; r += 4 {
			scaleSumSquares4AVX2(a[r:r+4], x[r*ld:], ld, n, ss[r:r+4])
		}
	}
	for ; r < rows; r++ {
		ss[r] = ScaleSumSquares(a[r], x[r*ld:r*ld+n])
	}
}
