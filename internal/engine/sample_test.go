package engine

import (
	"math"
	"testing"
)

// TestSamplerDistribution: with temperature T the empirical frequencies match
// softmax(logits/T); top-k and top-p keep exactly the tokens they should.
func TestSamplerDistribution(t *testing.T) {
	logits := []float32{2, 1, 0.5, 0, -1, -3}
	soft := func(T float64, keep int) []float64 {
		p := make([]float64, len(logits))
		var z float64
		for i := 0; i < keep; i++ {
			p[i] = math.Exp(float64(logits[i]) / T)
			z += p[i]
		}
		for i := range p {
			p[i] /= z
		}
		return p
	}
	const n = 40000
	for _, tc := range []struct {
		name string
		s    Sampling
		want []float64
	}{
		{"T=1", Sampling{Temperature: 1, Seed: 1}, soft(1, 6)},
		{"T=0.5", Sampling{Temperature: 0.5, Seed: 2}, soft(0.5, 6)},
		{"top-k 2", Sampling{Temperature: 1, TopK: 2, Seed: 3}, soft(1, 2)},
		// softmax(1) ≈ .53 .20 .12 .07 .03 .003: top-p 0.8 keeps the first 3 (.53+.20 < .8 ≤ .85).
		{"top-p 0.8", Sampling{Temperature: 1, TopP: 0.8, Seed: 4}, soft(1, 3)},
	} {
		sm := NewSampler(tc.s)
		count := make([]float64, len(logits))
		for range n {
			count[sm.Next(logits)]++
		}
		for i, w := range tc.want {
			got := count[i] / n
			sd := math.Sqrt(w*(1-w)/n) + 1e-9
			if math.Abs(got-w) > 5*sd {
				t.Errorf("%s: token %d frequency %.4f, want %.4f (±%.4f)", tc.name, i, got, w, 5*sd)
			}
			if w == 0 && count[i] > 0 {
				t.Errorf("%s: token %d drawn %v times, should be excluded", tc.name, i, count[i])
			}
		}
	}
}

func TestSamplerGreedyAndSeed(t *testing.T) {
	logits := []float32{0.1, 3, 3, -1}
	if got := NewSampler(Sampling{}).Next(logits); got != 1 {
		t.Errorf("greedy picked %d, want the first maximum 1", got)
	}
	a, b := NewSampler(Sampling{Temperature: 1, Seed: 9}), NewSampler(Sampling{Temperature: 1, Seed: 9})
	for range 100 {
		if a.Next(logits) != b.Next(logits) {
			t.Fatal("the same seed drew different tokens")
		}
	}
	for _, bad := range []Sampling{{Temperature: -1}, {TopK: -1}, {TopP: 1.5}, {Temperature: float32(math.NaN())}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
