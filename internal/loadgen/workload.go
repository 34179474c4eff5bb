package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Workload describes the synthetic requests: prompt lengths in tokens are
// log-normal (median PromptMedian, log-space deviation PromptSigma),
// clamped to [PromptMin, PromptMax]; max_tokens is drawn from MaxTokens
// with weights MaxTokensWeights. Everything is drawn from Seed, so the same
// Workload always gives the same requests.
type Workload struct {
	Seed             uint64
	PromptMedian     float64 // tokens
	PromptSigma      float64 // standard deviation of ln(length)
	PromptMin        int     // tokens, ≥ 1
	PromptMax        int     // tokens
	MaxTokens        []int   // max_tokens choices
	MaxTokensWeights []float64
	Temperature      float64 // 0: greedy
	Stream           bool
}

// DefaultWorkload suits a small model with a 512-token context: prompts
// of median 24 tokens (5th percentile ≈ 6, 95th ≈ 90), capped at 256, and
// max_tokens 16 (40 %), 32 (30 %), 64 (20 %) or 128 (10 %), greedy.
func DefaultWorkload() Workload {
	return Workload{Seed: 1, PromptMedian: 24, PromptSigma: 0.8, PromptMin: 1, PromptMax: 256,
		MaxTokens: []int{16, 32, 64, 128}, MaxTokensWeights: []float64{0.4, 0.3, 0.2, 0.1}}
}

// Check reports a workload that cannot be drawn from.
func (w Workload) Check() error {
	switch {
	case !(w.PromptMedian >= 1):
		return fmt.Errorf("loadgen: prompt median %v must be ≥ 1 token", w.PromptMedian)
	case !(w.PromptSigma >= 0 && w.PromptSigma <= 4):
		return fmt.Errorf("loadgen: prompt sigma %v must be in [0, 4]", w.PromptSigma)
	case w.PromptMin < 1 || w.PromptMax < w.PromptMin:
		return fmt.Errorf("loadgen: prompt lengths [%d, %d] must satisfy 1 ≤ min ≤ max", w.PromptMin, w.PromptMax)
	case len(w.MaxTokens) == 0 || len(w.MaxTokens) != len(w.MaxTokensWeights):
		return fmt.Errorf("loadgen: %d max_tokens choices with %d weights", len(w.MaxTokens), len(w.MaxTokensWeights))
	case !(w.Temperature >= 0 && w.Temperature <= 2):
		return fmt.Errorf("loadgen: temperature %v must be in [0, 2]", w.Temperature)
	}
	sum := 0.0
	for i, m := range w.MaxTokens {
		if m < 1 || !(w.MaxTokensWeights[i] >= 0) {
			return fmt.Errorf("loadgen: max_tokens choice %d (weight %v) must be ≥ 1 with a weight ≥ 0", m, w.MaxTokensWeights[i])
		}
		sum += w.MaxTokensWeights[i]
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return fmt.Errorf("loadgen: max_tokens weights must have a positive finite sum")
	}
	return nil
}

// Item is one request of a workload.
type Item struct {
	Prompt       string
	PromptTokens int // the target length the prompt was built for
	MaxTokens    int
	Seed         int64 // the request's sampling seed
}

// words is the fixed vocabulary prompts are built from (simple story
// words, which small story models tokenize into few pieces).
var words = strings.Fields(`once upon a time there was a little girl named lily she liked to play
outside in the park with her friend tom one day they saw a big red ball under the tree the sun was
warm and the sky was blue a small dog ran to them and wagged its tail they were happy and laughed
mom said it is time to go home so they walked back and ate some cake then the cat jumped on the bed
and went to sleep the bird sang a song in the garden near the house where the old man lived with
his kind wife every morning he would bring flowers to her and she would smile`)

// Items draws n requests. count, when not nil, is the number of tokens
// the server will see for a prompt (with BOS, as it encodes); prompts then
// have exactly the drawn length where words allow (they grow a word at a
// time and stop at the first length ≥ the target). Without count, one word
// stands for one token.
func (w Workload) Items(n int, count func(string) int) ([]Item, error) {
	if err := w.Check(); err != nil {
		return nil, err
	}
	if count == nil {
		count = func(s string) int { return len(strings.Fields(s)) }
	}
	rng := rand.New(rand.NewPCG(w.Seed, 0x6c6f616467656e)) // "loadgen"
	var total float64
	for _, x := range w.MaxTokensWeights {
		total += x
	}
	out := make([]Item, n)
	for i := range out {
		target := int(math.Round(w.PromptMedian * math.Exp(w.PromptSigma*rng.NormFloat64())))
		target = min(max(target, w.PromptMin), w.PromptMax)
		start := rng.IntN(len(words))
		var sb strings.Builder
		for k := 0; ; k++ {
			if k > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[(start+k)%len(words)])
			if count(sb.String()) >= target || k > 8*w.PromptMax {
				break
			}
		}
		r, mt := rng.Float64()*total, w.MaxTokens[len(w.MaxTokens)-1]
		for j, x := range w.MaxTokensWeights {
			if r < x {
				mt = w.MaxTokens[j]
				break
			}
			r -= x
		}
		out[i] = Item{Prompt: sb.String(), PromptTokens: target, MaxTokens: mt, Seed: int64(rng.Uint64() >> 1)}
	}
	return out, nil
}
