package llama_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/headlight/headlight/assets"
	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/model/llama"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

// The golden outputs come with the model (assets/stories260K/README.md):
// reference.json holds BOS + the 200 tokens llama2.c's run.c generates
// greedily, and logits at the first 16 positions from an independent fp32
// forward pass.
type reference struct {
	Tokens []int       `json:"tokens"`
	Logits [][]float32 `json:"logits_first16"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("../../../assets/stories260K/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func stories(t testing.TB, threads int) *llama.Model {
	t.Helper()
	w, err := weights.ParseLlama2C(assets.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	m, err := llama.FromLlama2C(w, attention.NewEngine(kernels.NewPool(threads)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenLogits: logits at the first 16 positions within 1e-4, both for
// one batched prefill and for token-by-token decoding through the cache.
func TestGoldenLogits(t *testing.T) {
	ref := loadReference(t)
	m := stories(t, 2)
	V := m.Config().VocabSize
	toks := ref.Tokens[:16]
	st := model.NewState(m.Config(), 1, 16, tensor.F32)
	all, err := m.Forward(st, toks, 16, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	st2 := model.NewState(m.Config(), 1, 16, tensor.F32)
	for pos, tok := range toks {
		one, err := m.Forward(st2, []int{tok}, 1, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string][]float32{"prefill": all[pos*V : (pos+1)*V], "decode": one} {
			var worst float64
			for i, want := range ref.Logits[pos] {
				worst = math.Max(worst, math.Abs(float64(got[i])-float64(want)))
			}
			if worst > 1e-4 {
				t.Errorf("%s position %d: max abs logit error %.3g > 1e-4", name, pos, worst)
			}
		}
	}
}

// TestGoldenGreedy: greedy decoding from BOS for 200 tokens gives exactly
// run.c's token ids.
func TestGoldenGreedy(t *testing.T) {
	ref := loadReference(t)
	for _, threads := range []int{1, 2} {
		m := stories(t, threads)
		got, err := engine.Generate(context.Background(), m, engine.Request{Prompt: ref.Tokens[:1], MaxTokens: 200, Stop: []int{1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ref.Tokens[1:]) {
			n := 0
			for n < min(len(got), len(ref.Tokens)-1) && got[n] == ref.Tokens[1+n] {
				n++
			}
			t.Fatalf("%d threads: greedy tokens diverge at %d of 200 (got %d tokens)", threads, n, len(got))
		}
	}
}
