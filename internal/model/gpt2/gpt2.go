// Package gpt2 is the GPT-2 family: learned positions, pre-LayerNorm blocks,
// a fused QKV projection (Conv1D), GELU (tanh form) and a classifier tied to
// the token embedding.
package gpt2

import (
	"fmt"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

func init() {
	model.Register("gpt2", func(src model.Source, eng *attention.Engine) (model.Decoder, error) {
		switch w := src.(type) {
		case *model.HF:
			return FromHF(w.Config, w.Tensors, eng)
		case *model.GGUF:
			return FromGGUF(w.File, w.Tensors, eng)
		}
		return nil, fmt.Errorf("gpt2: cannot build from %T", src)
	})
}

// Layer is one GPT-2 block. Conv1D weights are transposed at load into
// (out, in) so every projection is x·Wᵀ + b.
type Layer struct {
	LN1W, LN1B []float32     // (dim)
	Attn       attention.MHA // Wq/Wk/Wv (dim, dim) split from c_attn, Wo (dim, dim) from c_proj, with biases
	LN2W, LN2B []float32     // (dim)
	WFc, BFc   []float32     // (inner, dim), (inner)
	WProj      []float32     // (dim, inner)
	BProj      []float32     // (dim)
	// Stored, when set, holds WFc and WProj instead (then nil): see
	// Model.StoreWeights.
	Stored *MLPWeights
}

// MLPWeights are a layer's MLP weights in any tensor.DType, packed or not,
// with the shapes of Layer's float32 fields.
type MLPWeights struct {
	FC, Proj tensor.Store
}

// mlp returns the MLP weights as Stores.
func (L *Layer) mlp() MLPWeights {
	if L.Stored != nil {
		return *L.Stored
	}
	return MLPWeights{FC: tensor.FromF32(L.WFc), Proj: tensor.FromF32(L.WProj)}
}

// StoreWeights keeps every layer's attention projections and MLP weights
// in d (model.WeightStorer, tensor.StoreWeight): float32 packed once for
// kernels.MatMulPanels (every engine load does this), half precision
// rounded once, to nearest even; the float32 slices are dropped.
// Embeddings, norms and biases stay float32. done (nil: none) is called
// after each layer.
func (m *Model) StoreWeights(d tensor.DType, done func()) error {
	c := m.cfg
	for l := range m.Layers {
		L := &m.Layers[l]
		L.Attn.StoreWeights(d)
		w := L.mlp()
		L.Stored = &MLPWeights{
			FC:   tensor.StoreWeight(d, w.FC, c.HiddenDim, c.Dim),
			Proj: tensor.StoreWeight(d, w.Proj, c.Dim, c.HiddenDim),
		}
		L.WFc, L.WProj = nil, nil
		if done != nil {
			done()
		}
	}
	return nil
}

// Model is a GPT-2 language model.
type Model struct {
	cfg        model.Config
	WTE        []float32 // (vocab, dim) token embedding, also the classifier
	WPE        []float32 // (maxSeq, dim) learned positions
	Layers     []Layer
	LNFW, LNFB []float32 // (dim)
	eng        *attention.Engine
}

// Config reports the hyper-parameters.
func (m *Model) Config() model.Config { return m.cfg }

// FromHF loads GPT2LMHeadModel / GPT2Model tensors (with or without the
// "transformer." prefix).
func FromHF(hc *weights.HFConfig, src weights.Source, eng *attention.Engine) (*Model, error) {
	d, _ := hc.Int("n_embd", "hidden_size")
	layers, _ := hc.Int("n_layer", "num_hidden_layers")
	heads, _ := hc.Int("n_head", "num_attention_heads")
	maxSeq, _ := hc.Int("n_positions", "n_ctx", "max_position_embeddings")
	inner, ok := hc.Int("n_inner")
	if !ok || inner == 0 {
		inner = 4 * d
	}
	eps, ok := hc.Float("layer_norm_epsilon")
	if !ok {
		eps = 1e-5
	}
	if act, ok := hc.Str("activation_function"); ok && act != "gelu_new" && act != "gelu_pytorch_tanh" {
		return nil, fmt.Errorf("gpt2: activation %q is not supported (gelu_new only)", act)
	}
	cfg := model.Config{Family: "gpt2", Dim: d, HiddenDim: inner, Layers: layers, Heads: heads, KVHeads: heads,
		VocabSize: hc.VocabSize, MaxSeq: maxSeq, NormEps: float32(eps)}
	if d < 1 || heads < 1 || d%heads != 0 || layers < 1 || cfg.VocabSize < 1 || maxSeq < 1 {
		return nil, fmt.Errorf("gpt2: incomplete or inconsistent config: %+v", cfg)
	}
	cfg.HeadDim = d / heads
	prefix := "transformer."
	if _, _, ok := src.Info("transformer.wte.weight"); !ok {
		prefix = ""
	}
	ld := &weights.Loader{Src: src, Prefix: prefix, Family: "gpt2"}
	get := ld.F32
	m := &Model{cfg: cfg, eng: eng, Layers: make([]Layer, layers)}
	m.WTE = get("wte.weight", cfg.VocabSize, d)
	m.WPE = get("wpe.weight", maxSeq, d)
	m.LNFW, m.LNFB = get("ln_f.weight", d), get("ln_f.bias", d)
	for l := range m.Layers {
		p := fmt.Sprintf("h.%d.", l)
		cAttn := get(p+"attn.c_attn.weight", d, 3*d) // (in, 3·dim): columns q | k | v
		bAttn := get(p+"attn.c_attn.bias", 3*d)
		L := Layer{
			LN1W: get(p+"ln_1.weight", d), LN1B: get(p+"ln_1.bias", d),
			LN2W: get(p+"ln_2.weight", d), LN2B: get(p+"ln_2.bias", d),
			WFc:   transpose(get(p+"mlp.c_fc.weight", d, inner), d, inner),
			BFc:   get(p+"mlp.c_fc.bias", inner),
			WProj: transpose(get(p+"mlp.c_proj.weight", inner, d), inner, d),
			BProj: get(p+"mlp.c_proj.bias", d),
		}
		if ld.Err != nil {
			return nil, ld.Err
		}
		wqkv := transpose(cAttn, d, 3*d) // (3·dim, dim)
		L.Attn = attention.MHA{DModel: d, Heads: heads,
			Wq: wqkv[:d*d], Wk: wqkv[d*d : 2*d*d], Wv: wqkv[2*d*d:],
			Bq: bAttn[:d], Bk: bAttn[d : 2*d], Bv: bAttn[2*d:],
			Wo: transpose(get(p+"attn.c_proj.weight", d, d), d, d), Bo: get(p+"attn.c_proj.bias", d)}
		if ld.Err != nil {
			return nil, ld.Err
		}
		if err := L.Attn.Check(); err != nil {
			return nil, fmt.Errorf("gpt2: layer %d: %w", l, err)
		}
		m.Layers[l] = L
	}
	return m, nil
}

// transpose turns x (rows, cols) into a new (cols, rows).
func transpose(x []float32, rows, cols int) []float32 {
	if x == nil {
		return nil
	}
	t := make([]float32, len(x))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = x[r*cols+c]
		}
	}
	return t
}

// Forward runs tokens (batch, seq) at the state's next positions.
func (m *Model) Forward(s *model.State, tokens []int, seq int, lens []int, lastOnly bool) ([]float32, error) {
	c := &m.cfg
	B := s.Batch
	if seq < 1 || len(tokens) != B*seq || (lens != nil && len(lens) != B) || len(s.Caches) != c.Layers {
		return nil, fmt.Errorf("gpt2: %d tokens, %d lengths for batch %d × seq %d (%d caches)", len(tokens), len(lens), B, seq, len(s.Caches))
	}
	n := B * seq
	ar := s.Arena
	ar.Reset()
	x := ar.Floats(n * c.Dim) // (batch·seq, dim) residual stream
	if err := nn.Embed(x, m.WTE, c.Dim, tokens); err != nil {
		return nil, err
	}
	pos := make([]int, n) // (batch·seq) position of each token
	for b := 0; b < B; b++ {
		for i := 0; i < seq; i++ {
			pos[b*seq+i] = s.Caches[0].Lens[b] + i
			if (lens == nil || i < lens[b]) && pos[b*seq+i] >= c.MaxSeq {
				return nil, fmt.Errorf("gpt2: position %d beyond the model's %d", pos[b*seq+i], c.MaxSeq)
			}
			pos[b*seq+i] = min(pos[b*seq+i], c.MaxSeq-1) // padding rows: any valid row
		}
	}
	if err := attention.AddPositions(x, m.WPE, c.Dim, pos); err != nil {
		return nil, err
	}
	h := ar.Floats(n * c.Dim)       // (batch·seq, dim) normed input of a sub-block
	g := ar.Floats(n * c.HiddenDim) // (batch·seq, inner) MLP activations
	f := ar.Floats(n * c.Dim)       // (batch·seq, dim) MLP output
	pool := m.eng.Pool()
	for l := range m.Layers {
		L := &m.Layers[l]
		// Attention: LayerNorm → QKV → causal attention (KV cache) → c_proj → residual.
		nn.LayerNorm(h, x, L.LN1W, L.LN1B, c.NormEps)
		in := &attention.Input{X: h, Batch: B, SeqQ: seq, SeqLens: lens, Cache: s.Caches[l],
			Opts: attention.Options{Causal: true}, Stats: s.Stats(), MapHeads: s.MapHeads(l), Arena: ar}
		a, err := L.Attn.Forward(m.eng, in)
		if err != nil {
			return nil, fmt.Errorf("gpt2: layer %d: %w", l, err)
		}
		s.Report(l, in)
		nn.Add(x, a)
		// MLP: LayerNorm → c_fc → GELU → c_proj → residual.
		nn.LayerNorm(h, x, L.LN2W, L.LN2B, c.NormEps)
		mw := L.mlp()
		tensor.MatMulTransB(pool, g, h, mw.FC, L.BFc, n, c.HiddenDim, c.Dim)
		nn.GELU(g)
		tensor.MatMulTransB(pool, f, g, mw.Proj, L.BProj, n, c.Dim, c.HiddenDim)
		nn.Add(x, f)
	}
	nn.LayerNorm(x, x, m.LNFW, m.LNFB, c.NormEps)
	if lastOnly {
		x, n = model.LastRows(ar, x, c.Dim, B, seq, lens), B
	}
	logits := make([]float32, n*c.VocabSize) // (rows, vocab)
	kernels.MatMulTransB(pool, logits, x, m.WTE, nil, n, c.VocabSize, c.Dim)
	return logits, nil
}
