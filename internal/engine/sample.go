package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/headlight/headlight/internal/nn"
)

// Sampling chooses the next token from logits.
type Sampling struct {
	Temperature float32 // 0 = greedy (argmax)
	TopK        int     // keep the k most likely tokens (0 = all)
	TopP        float32 // keep the smallest set with cumulative probability ≥ p (0 or 1 = all)
	Seed        uint64  // the same seed gives the same choices
}

// Validate reports settings out of range.
func (s Sampling) Validate() error {
	switch {
	case s.Temperature < 0 || math.IsNaN(float64(s.Temperature)) || s.Temperature > 100:
		return fmt.Errorf("temperature %v must be in [0, 100]", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("top-k %d must be ≥ 0", s.TopK)
	case s.TopP < 0 || s.TopP > 1 || math.IsNaN(float64(s.TopP)):
		return fmt.Errorf("top-p %v must be in [0, 1]", s.TopP)
	}
	return nil
}

// Sampler draws tokens with its own generator: the same Sampling (with its
// seed) gives the same tokens wherever it runs (generate, serve).
type Sampler struct {
	s    Sampling
	rng  *rand.Rand
	prob []float64 // (vocab) scratch
	idx  []int     // (vocab) scratch
}

// NewSampler returns a sampler for s.
func NewSampler(s Sampling) *Sampler {
	return &Sampler{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x853c49e6748fea9b))}
}

// Next picks a token from logits (vocab).
func (sm *Sampler) Next(logits []float32) int {
	if sm.s.Temperature == 0 {
		return nn.Argmax(logits)
	}
	n := len(logits)
	if cap(sm.prob) < n {
		sm.prob, sm.idx = make([]float64, n), make([]int, n)
	}
	p, idx := sm.prob[:n], sm.idx[:n]
	mx := float64(logits[nn.Argmax(logits)])
	var z float64
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - mx) / float64(sm.s.Temperature))
		z += p[i]
		idx[i] = i
	}
	keep := n
	if sm.s.TopK > 0 || (sm.s.TopP > 0 && sm.s.TopP < 1) {
		sort.Slice(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] || (p[idx[a]] == p[idx[b]] && idx[a] < idx[b]) })
		if sm.s.TopK > 0 && sm.s.TopK < keep {
			keep = sm.s.TopK
		}
		if sm.s.TopP > 0 && sm.s.TopP < 1 {
			var cum float64
			for i := 0; i < keep; i++ {
				cum += p[idx[i]] / z
				if cum >= float64(sm.s.TopP) {
					keep = i + 1
					break
				}
			}
		}
		z = 0
		for _, i := range idx[:keep] {
			z += p[i]
		}
	}
	r := sm.rng.Float64() * z
	var cum float64
	for _, i := range idx[:keep] {
		cum += p[i]
		if r < cum {
			return i
		}
	}
	return idx[keep-1]
}
