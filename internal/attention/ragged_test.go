package attention

import (
	"math/rand/v2"
	"testing"

	"github.com/headlight/headlight/internal/tensor"
)

// TestRaggedBatchEqualsAlone: three sequences with prompts of different
// lengths, prefilled together right-padded and then decoded together through
// one cache, give exactly what each gives when run alone in one causal pass.
func TestRaggedBatchEqualsAlone(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(17, 18))
	const E, H, KV, D, steps = 32, 4, 2, 8, 6
	rope, _ := NewRoPE(RoPEHalf, D, 10000)
	m := &MHA{DModel: E, Heads: H, KVHeads: KV, HeadDim: D, RoPE: rope,
		Wq: randn(rng, H*D*E, 0.2), Wk: randn(rng, KV*D*E, 0.2), Wv: randn(rng, KV*D*E, 0.2), Wo: randn(rng, E*H*D, 0.2)}
	lens := []int{7, 2, 5}
	B, P := len(lens), 7 // batch, padded prompt length
	// Each sequence's full token stream: prompt then decode steps.
	xs := make([][]float32, B)
	for b, n := range lens {
		xs[b] = randn(rng, (n+steps)*E, 1)
	}
	alone := make([][]float32, B) // (n+steps, E) each
	for b, n := range lens {
		out, err := m.Forward(e, &Input{X: xs[b], Batch: 1, SeqQ: n + steps, Opts: Options{Causal: true}})
		if err != nil {
			t.Fatal(err)
		}
		alone[b] = out
	}
	cache := NewKVCache(tensor.F32, B, KV, D, P+steps)
	prompt := make([]float32, B*P*E) // (batch, P, E), right-padded with noise
	for b, n := range lens {
		copy(prompt[b*P*E:], xs[b][:n*E])
		for i := n * E; i < P*E; i++ {
			prompt[b*P*E+i] = 9 // padding rows must not matter
		}
	}
	out, err := m.Forward(e, &Input{X: prompt, Batch: B, SeqQ: P, Cache: cache, SeqLens: lens, Opts: Options{Causal: true}})
	if err != nil {
		t.Fatal(err)
	}
	for b, n := range lens {
		checkClose(t, "prefill", out[b*P*E:(b*P+n)*E], alone[b][:n*E], 1e-5)
	}
	for s := 0; s < steps; s++ {
		x := make([]float32, B*E)
		for b, n := range lens {
			copy(x[b*E:], xs[b][(n+s)*E:(n+s+1)*E])
		}
		out, err := m.Forward(e, &Input{X: x, Batch: B, SeqQ: 1, Cache: cache, Opts: Options{Causal: true}})
		if err != nil {
			t.Fatal(err)
		}
		for b, n := range lens {
			checkClose(t, "decode", out[b*E:(b+1)*E], alone[b][(n+s)*E:(n+s+1)*E], 1e-5)
		}
	}
	for b, n := range lens {
		if cache.Lens[b] != n+steps {
			t.Errorf("sequence %d holds %d positions, want %d", b, cache.Lens[b], n+steps)
		}
	}
}
