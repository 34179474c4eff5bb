package attention

import (
	"fmt"
	"math"
)

// Sinusoidal returns the (seq, dim) table of "Attention Is All You Need":
//
//	PE[p, 2i]   = sin(p / 10000^(2i/dim))
//	PE[p, 2i+1] = cos(p / 10000^(2i/dim))
func Sinusoidal(seq, dim int) []float32 {
	t := make([]float32, seq*dim)
	for p := 0; p < seq; p++ {
		for c := 0; c < dim; c++ {
			i2 := c - c%2
			a := float64(p) / math.Pow(10000, float64(i2)/float64(dim))
			if c%2 == 0 {
				t[p*dim+c] = float32(math.Sin(a))
			} else {
				t[p*dim+c] = float32(math.Cos(a))
			}
		}
	}
	return t
}

// AddPositions adds rows of a (maxPos, dim) position table — sinusoidal or
// learned — to x (rows, dim), where row n is at position positions[n].
func AddPositions(x, table []float32, dim int, positions []int) error {
	if len(x) != len(positions)*dim {
		return fmt.Errorf("attention: %d values for %d positions of dim %d", len(x), len(positions), dim)
	}
	for n, p := range positions {
		if p < 0 || (p+1)*dim > len(table) {
			return fmt.Errorf("attention: position %d outside the table of %d positions", p, len(table)/dim)
		}
		row := x[n*dim : (n+1)*dim]
		for c, v := range table[p*dim : (p+1)*dim] {
			row[c] += v
		}
	}
	return nil
}

// ALiBiSlopes returns the per-head slopes of ALiBi (Press et al.): for n a
// power of two, slope_h = 2^(-8(h+1)/n); otherwise the slopes of the power of
// two below n followed by every other slope of the power of two above it.
func ALiBiSlopes(n int) []float32 {
	pow2 := func(m int) []float64 {
		start := math.Pow(2, -8/float64(m))
		s := make([]float64, m)
		for i := range s {
			s[i] = math.Pow(start, float64(i+1))
		}
		return s
	}
	m := 1
	for m*2 <= n {
		m *= 2
	}
	s := pow2(m)
	if m < n {
		extra := pow2(2 * m)
		for i := 0; len(s) < n; i += 2 {
			s = append(s, extra[i])
		}
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(s[i])
	}
	return out
}
