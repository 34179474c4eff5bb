// Package llama is the Llama family: RMSNorm, rotary positions,
// grouped-query attention and a SwiGLU feed-forward network.
package llama

import (
	"fmt"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

func init() { model.Register("llama", New) }

// Layer is one transformer block.
type Layer struct {
	RMSAtt []float32     // (dim)
	Attn   attention.MHA // Wq (heads·headDim, dim), Wk/Wv (kvHeads·headDim, dim), Wo (dim, heads·headDim)
	RMSFFN []float32     // (dim)
	W1     []float32     // (hidden, dim) gate
	W2     []float32     // (dim, hidden) down
	W3     []float32     // (hidden, dim) up
	// Stored, when set, holds W1, W2 and W3 instead (then nil): see
	// Model.StoreWeights.
	Stored *FFNWeights
}

// FFNWeights are a layer's feed-forward weights in any tensor.DType, with
// the shapes of Layer's float32 fields.
type FFNWeights struct {
	W1, W2, W3 tensor.Store
}

// ffn returns the feed-forward weights as Stores.
func (L *Layer) ffn() FFNWeights {
	if L.Stored != nil {
		return *L.Stored
	}
	return FFNWeights{W1: tensor.FromF32(L.W1), W2: tensor.FromF32(L.W2), W3: tensor.FromF32(L.W3)}
}

// StoreWeights keeps every layer's attention projections and feed-forward
// weights in d (model.WeightStorer, tensor.StoreWeight): float32 packed
// once for kernels.MatMulPanels (every load does this), half precision
// rounded once, to nearest even; the float32 slices are dropped.
// Embeddings, norms and the classifier stay float32 as loaded. Decoding
// (one token per sequence) then runs the packed or the half-precision
// matrix–vector kernels, longer inputs their tiles. done (nil: none) is
// called after each layer.
func (m *Model) StoreWeights(d tensor.DType, done func()) error {
	c := m.cfg
	for l := range m.Layers {
		L := &m.Layers[l]
		L.Attn.StoreWeights(d)
		ffn := L.ffn()
		L.Stored = &FFNWeights{
			W1: tensor.StoreWeight(d, ffn.W1, c.HiddenDim, c.Dim),
			W2: tensor.StoreWeight(d, ffn.W2, c.Dim, c.HiddenDim),
			W3: tensor.StoreWeight(d, ffn.W3, c.HiddenDim, c.Dim),
		}
		L.W1, L.W2, L.W3 = nil, nil, nil
		if done != nil {
			done()
		}
	}
	return nil
}

// Model is a Llama decoder.
type Model struct {
	cfg      model.Config
	TokEmb   []float32 // (vocab, dim)
	Layers   []Layer
	RMSFinal []float32 // (dim)
	WCls     []float32 // (vocab, dim); may alias TokEmb
	eng      *attention.Engine
}

// New builds a Llama from a llama2.c checkpoint, a Hugging Face directory
// or a GGUF file.
func New(src model.Source, eng *attention.Engine) (model.Decoder, error) {
	switch w := src.(type) {
	case *weights.Llama2C:
		return FromLlama2C(w, eng)
	case *model.HF:
		return FromHF(w.Config, w.Tensors, eng)
	case *model.GGUF:
		return FromGGUF(w.File, w.Tensors, eng)
	}
	return nil, fmt.Errorf("llama: cannot build from %T", src)
}

// FromLlama2C wraps a llama2.c checkpoint (no copies).
func FromLlama2C(w *weights.Llama2C, eng *attention.Engine) (*Model, error) {
	c := w.Config
	cfg := model.Config{Family: "llama", Dim: c.Dim, HiddenDim: c.HiddenDim, Layers: c.Layers, Heads: c.Heads,
		KVHeads: c.KVHeads, HeadDim: c.HeadDim(), VocabSize: c.VocabSize, MaxSeq: c.SeqLen, RopeTheta: 10000, NormEps: 1e-5}
	rope, err := attention.NewRoPE(attention.RoPEInterleaved, cfg.HeadDim, cfg.RopeTheta)
	if err != nil {
		return nil, fmt.Errorf("llama: %w", err)
	}
	m := &Model{cfg: cfg, TokEmb: w.TokenEmbedding, RMSFinal: w.RMSFinal, WCls: w.WCls, eng: eng, Layers: make([]Layer, c.Layers)}
	d, kvd, hd := c.Dim, c.KVDim(), c.HiddenDim
	for l := range m.Layers {
		m.Layers[l] = Layer{
			RMSAtt: w.RMSAtt[l*d : (l+1)*d],
			Attn: attention.MHA{DModel: d, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: cfg.HeadDim, RoPE: rope,
				Wq: w.WQ[l*d*d : (l+1)*d*d], Wk: w.WK[l*kvd*d : (l+1)*kvd*d],
				Wv: w.WV[l*kvd*d : (l+1)*kvd*d], Wo: w.WO[l*d*d : (l+1)*d*d]},
			RMSFFN: w.RMSFFN[l*d : (l+1)*d],
			W1:     w.W1[l*hd*d : (l+1)*hd*d],
			W2:     w.W2[l*d*hd : (l+1)*d*hd],
			W3:     w.W3[l*hd*d : (l+1)*hd*d],
		}
		if err := m.Layers[l].Attn.Check(); err != nil {
			return nil, fmt.Errorf("llama: layer %d: %w", l, err)
		}
	}
	return m, nil
}

// Config reports the hyper-parameters.
func (m *Model) Config() model.Config { return m.cfg }

// Forward runs tokens (batch, seq) through the model at the state's next
// positions, as llama2.c's forward() does one token at a time.
func (m *Model) Forward(s *model.State, tokens []int, seq int, lens []int, lastOnly bool) ([]float32, error) {
	c := &m.cfg
	B := s.Batch
	if seq < 1 || len(tokens) != B*seq {
		return nil, fmt.Errorf("llama: %d tokens for batch %d × seq %d", len(tokens), B, seq)
	}
	if lens != nil && len(lens) != B {
		return nil, fmt.Errorf("llama: %d lengths for batch %d", len(lens), B)
	}
	for _, n := range lens {
		if n < 0 || n > seq {
			return nil, fmt.Errorf("llama: sequence length %d outside 0…%d", n, seq)
		}
	}
	if len(s.Caches) != c.Layers {
		return nil, fmt.Errorf("llama: state has %d caches for %d layers", len(s.Caches), c.Layers)
	}
	n := B * seq
	ar := s.Arena
	ar.Reset()
	x := ar.Floats(n * c.Dim) // (batch·seq, dim) residual stream
	if err := nn.Embed(x, m.TokEmb, c.Dim, tokens); err != nil {
		return nil, err
	}
	h := ar.Floats(n * c.Dim)       // (batch·seq, dim) normed input of a sub-block
	g := ar.Floats(n * c.HiddenDim) // (batch·seq, hidden) gate
	u := ar.Floats(n * c.HiddenDim) // (batch·seq, hidden) up
	f := ar.Floats(n * c.Dim)       // (batch·seq, dim) FFN output
	pool := m.eng.Pool()
	for l := range m.Layers {
		L := &m.Layers[l]
		// Attention: norm → QKV → RoPE → attention (KV cache) → output → residual.
		nn.RMSNorm(h, x, L.RMSAtt, c.NormEps)
		in := &attention.Input{X: h, Batch: B, SeqQ: seq, SeqLens: lens, Cache: s.Caches[l],
			Opts: attention.Options{Causal: true}, Stats: s.Stats(), MapHeads: s.MapHeads(l), Arena: ar}
		a, err := L.Attn.Forward(m.eng, in)
		if err != nil {
			return nil, fmt.Errorf("llama: layer %d: %w", l, err)
		}
		s.Report(l, in)
		nn.Add(x, a)
		// Feed-forward: norm → W1, W3 → SwiGLU → W2 → residual.
		nn.RMSNorm(h, x, L.RMSFFN, c.NormEps)
		ffn := L.ffn()
		tensor.MatMulTransBShared(pool, h, n, c.Dim,
			tensor.Linear{C: g, W: ffn.W1, N: c.HiddenDim},
			tensor.Linear{C: u, W: ffn.W3, N: c.HiddenDim})
		nn.SwiGLU(g, u)
		tensor.MatMulTransB(pool, f, g, ffn.W2, nil, n, c.Dim, c.HiddenDim)
		nn.Add(x, f)
	}
	nn.RMSNorm(x, x, m.RMSFinal, c.NormEps)
	if lastOnly { // keep the last real position of each sequence
		x, n = model.LastRows(ar, x, c.Dim, B, seq, lens), B
	}
	logits := make([]float32, n*c.VocabSize) // (rows, vocab)
	kernels.MatMulTransB(pool, logits, x, m.WCls, nil, n, c.VocabSize, c.Dim)
	return logits, nil
}
