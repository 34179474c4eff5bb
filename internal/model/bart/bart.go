// Package bart is the BART encoder–decoder family
// (BartForConditionalGeneration): learned positions with BART's offset of 2,
// post-LayerNorm blocks, a bidirectional encoder over right-padded batches,
// a causal decoder with a self-attention KV cache and cross-attention to the
// encoder memory, and logits h·sharedᵀ + final_logits_bias.
//
// BART is not a model.Decoder (it needs encoder memory), so it does not add
// itself to model.Register; build it with FromHF or New.
package bart

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/weights"
)

// posOffset is BART's learned-position offset: position p reads row p+2.
const posOffset = 2

// normEps is the epsilon of every LayerNorm (nn.LayerNorm's default; BART
// has no config key for it).
const normEps = 1e-5

// Config holds BART's hyper-parameters.
type Config struct {
	Dim                  int    // d_model
	EncLayers, DecLayers int    // encoder_layers, decoder_layers
	EncHeads, DecHeads   int    // encoder_attention_heads, decoder_attention_heads
	EncFFN, DecFFN       int    // encoder_ffn_dim, decoder_ffn_dim
	VocabSize            int    // vocab_size
	MaxPos               int    // max_position_embeddings (the tables hold MaxPos+2 rows)
	Activation           string // activation_function
	ScaleEmbedding       bool   // embeddings × √d_model
	PadID, BOS, EOS      int    // pad/bos/eos_token_id (-1: absent)
	DecoderStart         int    // decoder_start_token_id (-1: absent)
}

// EncLayer is one post-LN encoder block.
type EncLayer struct {
	Attn       attention.MHA // self_attn: q/k/v/out_proj (dim, dim) with biases
	LN1W, LN1B []float32     // (dim) self_attn_layer_norm
	W1, B1     []float32     // (ffn, dim), (ffn) fc1
	W2, B2     []float32     // (dim, ffn), (dim) fc2
	LN2W, LN2B []float32     // (dim) final_layer_norm
}

// DecLayer is one post-LN decoder block.
type DecLayer struct {
	Self       attention.MHA // self_attn (causal, KV cache)
	LN1W, LN1B []float32     // (dim) self_attn_layer_norm
	Cross      attention.MHA // encoder_attn: Wk/Wv project the encoder memory once per State
	LNXW, LNXB []float32     // (dim) encoder_attn_layer_norm
	W1, B1     []float32     // (ffn, dim), (ffn) fc1
	W2, B2     []float32     // (dim, ffn), (dim) fc2
	LN2W, LN2B []float32     // (dim) final_layer_norm
}

// Model is a BART encoder–decoder.
type Model struct {
	cfg            Config
	Shared         []float32 // (vocab, dim) token embedding of encoder and decoder
	EncPos, DecPos []float32 // (maxPos+2, dim) learned positions (offset 2)
	EncLNW, EncLNB []float32 // (dim) encoder layernorm_embedding
	DecLNW, DecLNB []float32 // (dim) decoder layernorm_embedding
	Enc            []EncLayer
	Dec            []DecLayer
	LMHead         []float32 // (vocab, dim); aliases Shared when tied
	FinalBias      []float32 // (vocab) final_logits_bias (zeros when absent)
	embedScale     float32
	act            func([]float32)
	eng            *attention.Engine
}

// ErrConfig reports a config.json that lacks a field the family needs or
// holds a value it cannot run.
var ErrConfig = errors.New("bart: unusable config")

// Config reports the hyper-parameters.
func (m *Model) Config() Config { return m.cfg }

// New builds a BART from a *model.HF (a Hugging Face directory).
func New(src model.Source, eng *attention.Engine) (*Model, error) {
	hf, ok := src.(*model.HF)
	if !ok {
		return nil, fmt.Errorf("bart: cannot build from %T", src)
	}
	return FromHF(hf.Config, hf.Tensors, eng)
}

// configFrom reads and checks the hyper-parameters.
func configFrom(hc *weights.HFConfig) (Config, error) {
	c := Config{PadID: hc.PadTokenID, BOS: hc.BOSTokenID, EOS: hc.EOSTokenID, DecoderStart: hc.DecoderStartToken}
	var missing []string
	for _, f := range []struct {
		key string
		dst *int
	}{
		{"d_model", &c.Dim}, {"encoder_layers", &c.EncLayers}, {"decoder_layers", &c.DecLayers},
		{"encoder_attention_heads", &c.EncHeads}, {"decoder_attention_heads", &c.DecHeads},
		{"encoder_ffn_dim", &c.EncFFN}, {"decoder_ffn_dim", &c.DecFFN},
		{"vocab_size", &c.VocabSize}, {"max_position_embeddings", &c.MaxPos},
	} {
		v, ok := hc.Int(f.key)
		if !ok {
			missing = append(missing, f.key)
		}
		*f.dst = v
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%w: config.json lacks %s", ErrConfig, strings.Join(missing, ", "))
	}
	if mt := hc.ModelType; mt != "" && mt != "bart" {
		return c, fmt.Errorf("%w: model_type %q is not bart", ErrConfig, mt)
	}
	var ok bool
	if c.Activation, ok = hc.Str("activation_function"); !ok {
		c.Activation = "gelu"
	}
	c.ScaleEmbedding, _ = hc.Bool("scale_embedding")
	if c.Dim < 1 || c.EncLayers < 1 || c.DecLayers < 1 || c.EncHeads < 1 || c.DecHeads < 1 ||
		c.Dim%c.EncHeads != 0 || c.Dim%c.DecHeads != 0 || c.EncFFN < 1 || c.DecFFN < 1 || c.VocabSize < 1 || c.MaxPos < 1 {
		return c, fmt.Errorf("%w: d_model %d, layers %d/%d, heads %d/%d, ffn %d/%d, vocab %d, positions %d",
			ErrConfig, c.Dim, c.EncLayers, c.DecLayers, c.EncHeads, c.DecHeads, c.EncFFN, c.DecFFN, c.VocabSize, c.MaxPos)
	}
	return c, nil
}

// loader reads BART's tensors under a prefix and keeps the first error.
type loader struct{ weights.Loader }

func (ld *loader) has(name string) bool                    { return ld.Has(name) }
func (ld *loader) get(name string, shape ...int) []float32 { return ld.F32(name, shape...) }

// mha reads one attention block (q/k/v/out_proj with biases).
func (ld *loader) mha(p string, d, heads int) attention.MHA {
	return attention.MHA{DModel: d, Heads: heads,
		Wq: ld.get(p+"q_proj.weight", d, d), Bq: ld.get(p+"q_proj.bias", d),
		Wk: ld.get(p+"k_proj.weight", d, d), Bk: ld.get(p+"k_proj.bias", d),
		Wv: ld.get(p+"v_proj.weight", d, d), Bv: ld.get(p+"v_proj.bias", d),
		Wo: ld.get(p+"out_proj.weight", d, d), Bo: ld.get(p+"out_proj.bias", d)}
}

// FromHF loads BartForConditionalGeneration (or BartModel) tensors, with or
// without the "model." prefix. The token embedding is model.shared.weight,
// or one of its tied copies (encoder/decoder embed_tokens, lm_head) when a
// file holds only those; lm_head.weight is used only when
// tie_word_embeddings is false. Float32 tensors alias the source.
func FromHF(hc *weights.HFConfig, src weights.Source, eng *attention.Engine) (*Model, error) {
	cfg, err := configFrom(hc)
	if err != nil {
		return nil, err
	}
	act, err := nn.Activation(cfg.Activation)
	if err != nil {
		return nil, fmt.Errorf("%w: activation_function: %v", ErrConfig, err)
	}
	ld := &loader{weights.Loader{Src: src, Family: "bart"}}
	if _, _, ok := src.Info("model.encoder.layers.0.fc1.weight"); ok {
		ld.Prefix = "model."
	}
	d, V, P := cfg.Dim, cfg.VocabSize, cfg.MaxPos+posOffset
	m := &Model{cfg: cfg, act: act, eng: eng, embedScale: 1,
		Enc: make([]EncLayer, cfg.EncLayers), Dec: make([]DecLayer, cfg.DecLayers)}
	if cfg.ScaleEmbedding {
		m.embedScale = float32(math.Sqrt(float64(d)))
	}
	shared := "shared.weight"
	for _, alt := range []string{"shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"} {
		if ld.has(alt) {
			shared = alt
			break
		}
	}
	m.Shared = ld.get(shared, V, d)
	m.EncPos, m.DecPos = ld.get("encoder.embed_positions.weight", P, d), ld.get("decoder.embed_positions.weight", P, d)
	m.EncLNW, m.EncLNB = ld.get("encoder.layernorm_embedding.weight", d), ld.get("encoder.layernorm_embedding.bias", d)
	m.DecLNW, m.DecLNB = ld.get("decoder.layernorm_embedding.weight", d), ld.get("decoder.layernorm_embedding.bias", d)
	for l := range m.Enc {
		p, f := fmt.Sprintf("encoder.layers.%d.", l), cfg.EncFFN
		m.Enc[l] = EncLayer{Attn: ld.mha(p+"self_attn.", d, cfg.EncHeads),
			LN1W: ld.get(p+"self_attn_layer_norm.weight", d), LN1B: ld.get(p+"self_attn_layer_norm.bias", d),
			W1: ld.get(p+"fc1.weight", f, d), B1: ld.get(p+"fc1.bias", f),
			W2: ld.get(p+"fc2.weight", d, f), B2: ld.get(p+"fc2.bias", d),
			LN2W: ld.get(p+"final_layer_norm.weight", d), LN2B: ld.get(p+"final_layer_norm.bias", d)}
		if ld.Err == nil {
			ld.Err = check(m.Enc[l].Attn, "encoder", l)
		}
	}
	for l := range m.Dec {
		p, f := fmt.Sprintf("decoder.layers.%d.", l), cfg.DecFFN
		m.Dec[l] = DecLayer{Self: ld.mha(p+"self_attn.", d, cfg.DecHeads),
			LN1W: ld.get(p+"self_attn_layer_norm.weight", d), LN1B: ld.get(p+"self_attn_layer_norm.bias", d),
			Cross: ld.mha(p+"encoder_attn.", d, cfg.DecHeads),
			LNXW:  ld.get(p+"encoder_attn_layer_norm.weight", d), LNXB: ld.get(p+"encoder_attn_layer_norm.bias", d),
			W1: ld.get(p+"fc1.weight", f, d), B1: ld.get(p+"fc1.bias", f),
			W2: ld.get(p+"fc2.weight", d, f), B2: ld.get(p+"fc2.bias", d),
			LN2W: ld.get(p+"final_layer_norm.weight", d), LN2B: ld.get(p+"final_layer_norm.bias", d)}
		if ld.Err == nil {
			ld.Err = check(m.Dec[l].Self, "decoder self-attention", l)
		}
		if ld.Err == nil {
			ld.Err = check(m.Dec[l].Cross, "decoder cross-attention", l)
		}
	}
	m.LMHead = m.Shared
	if tie, ok := hc.Bool("tie_word_embeddings"); ok && !tie {
		m.LMHead = ld.loadHead(V, d)
	}
	m.FinalBias = make([]float32, V)
	for _, name := range []string{"final_logits_bias", "model.final_logits_bias"} {
		if _, _, ok := src.Info(name); ok && ld.Err == nil {
			b, err := src.F32(name, 1, V)
			if err != nil {
				ld.Err = fmt.Errorf("bart: %w", err)
			}
			m.FinalBias = b
			break
		}
	}
	if ld.Err != nil {
		return nil, ld.Err
	}
	for _, extra := range []string{fmt.Sprintf("encoder.layers.%d.fc1.weight", cfg.EncLayers), fmt.Sprintf("decoder.layers.%d.fc1.weight", cfg.DecLayers)} {
		if ld.has(extra) {
			return nil, fmt.Errorf("%w: the checkpoint holds %s, more layers than the config says (%d/%d)", ErrConfig, extra, cfg.EncLayers, cfg.DecLayers)
		}
	}
	return m, nil
}

// loadHead reads an untied lm_head.weight (stored without the prefix).
func (ld *loader) loadHead(V, d int) []float32 {
	if ld.Err != nil {
		return nil
	}
	x, err := ld.Src.F32("lm_head.weight", V, d)
	if err != nil {
		ld.Err = fmt.Errorf("bart: tie_word_embeddings is false: %w", err)
	}
	return x
}

// check validates an attention block's sizes.
func check(a attention.MHA, what string, l int) error {
	if err := a.Check(); err != nil {
		return fmt.Errorf("bart: %s layer %d: %w", what, l, err)
	}
	return nil
}
