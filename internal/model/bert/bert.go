// Package bert is the BERT encoder family (BertModel, and so the
// sentence-transformers encoders such as all-MiniLM-L6-v2): word + position
// + token-type embeddings, post-LayerNorm blocks with bidirectional
// attention over right-padded batches, an erf GELU feed-forward network and
// an optional tanh pooler over the first ([CLS]) token.
//
// BERT is not a model.Decoder, so it does not add itself to model.Register;
// build it with FromHF or New.
package bert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

// Layer is one post-LN encoder block.
type Layer struct {
	Attn       attention.MHA // Wq/Wk/Wv (dim, dim) + biases (attention.self), Wo (dim, dim) + bias (attention.output.dense)
	LN1W, LN1B []float32     // (dim) attention.output.LayerNorm
	WI, BI     []float32     // (hidden, dim), (hidden) intermediate.dense
	WO, BO     []float32     // (dim, hidden), (dim) output.dense
	LN2W, LN2B []float32     // (dim) output.LayerNorm
	// Stored, when set, holds WI and WO instead (then nil): see
	// Model.StoreWeights.
	Stored *FFNWeights
}

// FFNWeights are a layer's feed-forward weights in any tensor.DType,
// packed or not, with the shapes of Layer's float32 fields.
type FFNWeights struct {
	I, O tensor.Store
}

// ffn returns the feed-forward weights as Stores.
func (L *Layer) ffn() FFNWeights {
	if L.Stored != nil {
		return *L.Stored
	}
	return FFNWeights{I: tensor.FromF32(L.WI), O: tensor.FromF32(L.WO)}
}

// StoreWeights keeps every layer's attention projections and feed-forward
// weights in d (tensor.StoreWeight): float32 packed once for
// kernels.MatMulPanels (engine.LoadEmbedder does this), half precision
// rounded once, to nearest even; the float32 slices are dropped.
// Embeddings, norms, biases and the pooler stay float32. done (nil: none)
// is called after each layer.
func (m *Model) StoreWeights(d tensor.DType, done func()) error {
	c := m.cfg
	for l := range m.Layers {
		L := &m.Layers[l]
		L.Attn.StoreWeights(d)
		w := L.ffn()
		L.Stored = &FFNWeights{
			I: tensor.StoreWeight(d, w.I, c.HiddenDim, c.Dim),
			O: tensor.StoreWeight(d, w.O, c.Dim, c.HiddenDim),
		}
		L.WI, L.WO = nil, nil
		if done != nil {
			done()
		}
	}
	return nil
}

// Model is a BERT encoder.
type Model struct {
	cfg       model.Config
	TypeVocab int       // token types (segments)
	PadID     int       // pad_token_id (0 when the config has none)
	Word      []float32 // (vocab, dim) word embeddings
	Pos       []float32 // (maxSeq, dim) absolute positions
	Type      []float32 // (typeVocab, dim) token types
	EmbLNW    []float32 // (dim) embeddings.LayerNorm
	EmbLNB    []float32 // (dim)
	Layers    []Layer
	PoolW     []float32 // (dim, dim) pooler.dense, nil without a pooler
	PoolB     []float32 // (dim)
	act       func([]float32)
	actName   string
	eng       *attention.Engine
}

// ErrConfig reports a config.json that lacks a field the family needs or
// holds a value it cannot run.
var ErrConfig = errors.New("bert: unusable config")

// Config reports the hyper-parameters (KVHeads = Heads, NormEps the
// LayerNorm epsilon, MaxSeq the number of learned positions).
func (m *Model) Config() model.Config { return m.cfg }

// Activation is the name of the feed-forward activation (hidden_act).
func (m *Model) Activation() string { return m.actName }

// New builds a BERT from a *model.HF (a Hugging Face directory).
func New(src model.Source, eng *attention.Engine) (*Model, error) {
	hf, ok := src.(*model.HF)
	if !ok {
		return nil, fmt.Errorf("bert: cannot build from %T", src)
	}
	return FromHF(hf.Config, hf.Tensors, eng)
}

// configFrom reads and checks the hyper-parameters.
func configFrom(hc *weights.HFConfig) (model.Config, int, string, error) {
	cfg := model.Config{Family: "bert"}
	var missing []string
	for _, f := range []struct {
		key string
		dst *int
	}{
		{"hidden_size", &cfg.Dim}, {"num_hidden_layers", &cfg.Layers}, {"num_attention_heads", &cfg.Heads},
		{"intermediate_size", &cfg.HiddenDim}, {"vocab_size", &cfg.VocabSize}, {"max_position_embeddings", &cfg.MaxSeq},
	} {
		v, ok := hc.Int(f.key)
		if !ok {
			missing = append(missing, f.key)
		}
		*f.dst = v
	}
	if len(missing) > 0 {
		return cfg, 0, "", fmt.Errorf("%w: config.json lacks %s", ErrConfig, strings.Join(missing, ", "))
	}
	types, ok := hc.Int("type_vocab_size")
	if !ok {
		types = 2 // BertConfig's default
	}
	eps, ok := hc.Float("layer_norm_eps")
	if !ok {
		eps = 1e-12
	}
	act, ok := hc.Str("hidden_act")
	if !ok {
		act = "gelu"
	}
	if pe, ok := hc.Str("position_embedding_type"); ok && pe != "absolute" {
		return cfg, 0, "", fmt.Errorf("%w: position_embedding_type %q (absolute only)", ErrConfig, pe)
	}
	if mt := hc.ModelType; mt != "" && mt != "bert" {
		return cfg, 0, "", fmt.Errorf("%w: model_type %q is not bert", ErrConfig, mt)
	}
	c := &cfg
	if c.Dim < 1 || c.Layers < 1 || c.Heads < 1 || c.Dim%c.Heads != 0 || c.HiddenDim < 1 || c.VocabSize < 1 ||
		c.MaxSeq < 1 || types < 1 || eps <= 0 {
		return cfg, 0, "", fmt.Errorf("%w: hidden %d, layers %d, heads %d, intermediate %d, vocab %d, positions %d, types %d, eps %g",
			ErrConfig, c.Dim, c.Layers, c.Heads, c.HiddenDim, c.VocabSize, c.MaxSeq, types, eps)
	}
	c.KVHeads, c.HeadDim, c.NormEps = c.Heads, c.Dim/c.Heads, float32(eps)
	return cfg, types, act, nil
}

// loader reads BERT's tensors under a prefix and keeps the first error.
type loader struct{ weights.Loader }

func (ld *loader) has(name string) bool                    { return ld.Has(name) }
func (ld *loader) get(name string, shape ...int) []float32 { return ld.F32(name, shape...) }

// norm reads a LayerNorm's weight and bias, also under the old TF names
// gamma and beta.
func (ld *loader) norm(name string, dim int) (w, b []float32) {
	if !ld.has(name+".weight") && ld.has(name+".gamma") {
		return ld.get(name+".gamma", dim), ld.get(name+".beta", dim)
	}
	return ld.get(name+".weight", dim), ld.get(name+".bias", dim)
}

// FromHF loads BertModel tensors (names with or without the "bert." prefix
// of the BertFor* heads, whose own tensors are ignored). The pooler is
// optional. Float32 tensors alias the source: keep it open while the model
// is used.
func FromHF(hc *weights.HFConfig, src weights.Source, eng *attention.Engine) (*Model, error) {
	cfg, types, actName, err := configFrom(hc)
	if err != nil {
		return nil, err
	}
	act, err := nn.Activation(actName)
	if err != nil {
		return nil, fmt.Errorf("%w: hidden_act: %v", ErrConfig, err)
	}
	ld := &loader{weights.Loader{Src: src, Family: "bert"}}
	if _, _, ok := src.Info("bert.embeddings.word_embeddings.weight"); ok {
		ld.Prefix = "bert."
	}
	d, hd := cfg.Dim, cfg.HiddenDim
	pad := 0
	if hc.PadTokenID >= 0 && hc.PadTokenID < cfg.VocabSize {
		pad = hc.PadTokenID
	}
	m := &Model{cfg: cfg, TypeVocab: types, PadID: pad, act: act, actName: actName, eng: eng,
		Layers: make([]Layer, cfg.Layers)}
	m.Word = ld.get("embeddings.word_embeddings.weight", cfg.VocabSize, d)
	m.Pos = ld.get("embeddings.position_embeddings.weight", cfg.MaxSeq, d)
	m.Type = ld.get("embeddings.token_type_embeddings.weight", types, d)
	m.EmbLNW, m.EmbLNB = ld.norm("embeddings.LayerNorm", d)
	for l := range m.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		L := &m.Layers[l]
		L.Attn = attention.MHA{DModel: d, Heads: cfg.Heads,
			Wq: ld.get(p+"attention.self.query.weight", d, d), Bq: ld.get(p+"attention.self.query.bias", d),
			Wk: ld.get(p+"attention.self.key.weight", d, d), Bk: ld.get(p+"attention.self.key.bias", d),
			Wv: ld.get(p+"attention.self.value.weight", d, d), Bv: ld.get(p+"attention.self.value.bias", d),
			Wo: ld.get(p+"attention.output.dense.weight", d, d), Bo: ld.get(p+"attention.output.dense.bias", d)}
		L.LN1W, L.LN1B = ld.norm(p+"attention.output.LayerNorm", d)
		L.WI, L.BI = ld.get(p+"intermediate.dense.weight", hd, d), ld.get(p+"intermediate.dense.bias", hd)
		L.WO, L.BO = ld.get(p+"output.dense.weight", d, hd), ld.get(p+"output.dense.bias", d)
		L.LN2W, L.LN2B = ld.norm(p+"output.LayerNorm", d)
		if ld.Err != nil {
			return nil, fmt.Errorf("%w (layer %d)", ld.Err, l)
		}
		if err := L.Attn.Check(); err != nil {
			return nil, fmt.Errorf("bert: layer %d: %w", l, err)
		}
	}
	if ld.has("pooler.dense.weight") {
		m.PoolW, m.PoolB = ld.get("pooler.dense.weight", d, d), ld.get("pooler.dense.bias", d)
	}
	if ld.Err != nil {
		return nil, ld.Err
	}
	if ld.has(fmt.Sprintf("encoder.layer.%d.attention.self.query.weight", cfg.Layers)) {
		return nil, fmt.Errorf("%w: the checkpoint has more than num_hidden_layers = %d layers", ErrConfig, cfg.Layers)
	}
	return m, nil
}
