package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSwiGLU against the float64 formula on lengths around the block size,
// with guard values where e^-x overflows or underflows.
func TestSwiGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 255, 256, 257, 1000} {
		g, u := make([]float32, n), make([]float32, n)
		for i := range g {
			g[i], u[i] = float32(rng.NormFloat64()*4), float32(rng.NormFloat64())
		}
		if n > 3 {
			g[0], g[1], g[2], g[3] = 100, -100, 0, -88.5
		}
		want := make([]float64, n)
		for i, x := range g {
			f := float64(x)
			want[i] = f / (1 + math.Exp(-f)) * float64(u[i])
		}
		SwiGLU(g, u)
		for i, got := range g {
			if d := math.Abs(float64(got) - want[i]); d > 4e-7*math.Abs(want[i])+1e-30 {
				t.Fatalf("n=%d i=%d: got %v, want %v", n, i, got, want[i])
			}
		}
	}
}
