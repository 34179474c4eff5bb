package attention

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ALiBi slopes from the paper's reference code (get_slopes): 8 heads give
// 2^-1 … 2^-8; 6 heads give the 4-head slopes then every other 8-head slope.
func TestALiBiSlopes(t *testing.T) {
	want8 := []float64{0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625}
	for i, s := range ALiBiSlopes(8) {
		if float64(s) != want8[i] {
			t.Errorf("8 heads slope %d = %v, want %v", i, s, want8[i])
		}
	}
	want6 := []float64{0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125}
	for i, s := range ALiBiSlopes(6) {
		if float64(s) != want6[i] {
			t.Errorf("6 heads slope %d = %v, want %v", i, s, want6[i])
		}
	}
}

// RoPE is a rotation: norms are kept and q·k depends only on the distance.
func TestRoPERelative(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, layout := range []RoPELayout{RoPEInterleaved, RoPEHalf} {
		r, err := NewRoPE(layout, 16, 10000)
		if err != nil {
			t.Fatal(err)
		}
		q, k := randn(rng, 16, 1), randn(rng, 16, 1)
		dot := func(p, s int) float64 {
			a, b := append([]float32(nil), q...), append([]float32(nil), k...)
			r.Apply(a, 1, []int{p})
			r.Apply(b, 1, []int{s})
			var d float64
			for i := range a {
				d += float64(a[i]) * float64(b[i])
			}
			return d
		}
		if d := math.Abs(dot(10, 3) - dot(107, 100)); d > 1e-4 {
			t.Errorf("%v: q·k depends on absolute position (diff %g)", layout, d)
		}
	}
	if _, err := NewRoPE(RoPEHalf, 7, 10000); err == nil {
		t.Error("odd head dim accepted")
	}
	if _, err := NewRoPE(RoPEHalf, 8, 1); err == nil {
		t.Error("theta 1 accepted")
	}
}

func TestAddPositions(t *testing.T) {
	table := Sinusoidal(10, 4)
	x := make([]float32, 2*4)
	if err := AddPositions(x, table, 4, []int{3, 9}); err != nil {
		t.Fatal(err)
	}
	if x[0] != table[12] || x[7] != table[39] {
		t.Errorf("rows not added: %v", x)
	}
	if err := AddPositions(x, table, 4, []int{3, 10}); err == nil {
		t.Error("position past the table accepted")
	}
}
