package kernels

// Dot returns Σ x[i]*y[i].
//
//	for i := range x { s += x[i] * y[i] }
//
// It panics if the lengths differ. The sum is accumulated in four float32
// lanes (i mod 4) that are added in a fixed order, so results are
// deterministic for a given length.
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic("kernels.Dot: length mismatch")
	}
	var s0, s1, s2, s3 float32
	n := len(x)
	i := 0
	for ; i+4 <= n; i += 4 {
		xs := x[i : i+4 : i+4]
		ys := y[i : i+4 : i+4]
		s0 += xs[0] * ys[0]
		s1 += xs[1] * ys[1]
		s2 += xs[2] * ys[2]
		s3 += xs[3] * ys[3]
	}
	for ; i < n; i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Axpy computes y += a*x.
//
//	for i := range x { y[i] += a * x[i] }
//
// It panics if the lengths differ.
func Axpy(a float32, x, y []float32) {
	if len(x) != len(y) {
		panic("kernels.Axpy: length mismatch")
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
	for i := range x {
		x[i] *= a
	}
}

// SumSquares returns Σ x[i]² accumulated in float64.
//
//	for i := range x { s += float64(x[i]) * float64(x[i]) }
func SumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}
