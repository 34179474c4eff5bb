package serve

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/nn"
)

// sampler draws tokens with its own generator. It is a copy of the engine's
// unexported sampler (internal/engine/sample.go) — same generator seeding,
// same order of operations — so a seeded request gives the same tokens as
// `headlight generate`. TODO: use engine's once it is exported
// (engine.NewSampler / (*Sampler).Next).
type sampler struct {
	s    engine.Sampling
	rng  *rand.Rand
	prob []float64 // (vocab) scratch
	idx  []int     // (vocab) scratch
}

func newSampler(s engine.Sampling) *sampler {
	return &sampler{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x853c49e6748fea9b))}
}

// next picks a token from logits (vocab): argmax at temperature 0, else a
// draw from softmax(logits/T) restricted to top-k and then top-p.
func (sm *sampler) next(logits []float32) int {
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
