package llama

import (
	"fmt"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/weights"
)

// tensorNames maps a file format's tensor names for layer l.
type tensorNames struct {
	embed, finalNorm, output     string
	attnNorm, q, k, v, o, ffNorm func(l int) string
	gate, down, up               func(l int) string
}

// Hugging Face LlamaForCausalLM names.
var hfNames = tensorNames{
	embed: "model.embed_tokens.weight", finalNorm: "model.norm.weight", output: "lm_head.weight",
	attnNorm: layerName("model.layers.%d.input_layernorm.weight"),
	q:        layerName("model.layers.%d.self_attn.q_proj.weight"),
	k:        layerName("model.layers.%d.self_attn.k_proj.weight"),
	v:        layerName("model.layers.%d.self_attn.v_proj.weight"),
	o:        layerName("model.layers.%d.self_attn.o_proj.weight"),
	ffNorm:   layerName("model.layers.%d.post_attention_layernorm.weight"),
	gate:     layerName("model.layers.%d.mlp.gate_proj.weight"),
	down:     layerName("model.layers.%d.mlp.down_proj.weight"),
	up:       layerName("model.layers.%d.mlp.up_proj.weight"),
}

// GGUF (llama.cpp) names.
var ggufNames = tensorNames{
	embed: "token_embd.weight", finalNorm: "output_norm.weight", output: "output.weight",
	attnNorm: layerName("blk.%d.attn_norm.weight"),
	q:        layerName("blk.%d.attn_q.weight"),
	k:        layerName("blk.%d.attn_k.weight"),
	v:        layerName("blk.%d.attn_v.weight"),
	o:        layerName("blk.%d.attn_output.weight"),
	ffNorm:   layerName("blk.%d.ffn_norm.weight"),
	gate:     layerName("blk.%d.ffn_gate.weight"),
	down:     layerName("blk.%d.ffn_down.weight"),
	up:       layerName("blk.%d.ffn_up.weight"),
}

func layerName(f string) func(int) string { return func(l int) string { return fmt.Sprintf(f, l) } }

// FromHF builds a Llama from a Hugging Face directory's config.json and
// safetensors. Hugging Face keeps q/k in the half-split RoPE layout.
func FromHF(hc *weights.HFConfig, src weights.Source, eng *attention.Engine) (*Model, error) {
	cfg := model.Config{Family: "llama", Dim: hc.HiddenSize, HiddenDim: hc.IntermediateSize, Layers: hc.NumHiddenLayers,
		Heads: hc.NumAttentionHeads, KVHeads: hc.NumKeyValueHeads, VocabSize: hc.VocabSize, MaxSeq: hc.MaxPositionEmbeddings,
		RopeTheta: hc.RopeTheta, NormEps: float32(hc.RMSNormEps)}
	if cfg.KVHeads == 0 {
		cfg.KVHeads = cfg.Heads
	}
	if cfg.RopeTheta == 0 {
		cfg.RopeTheta = 10000
	}
	if cfg.NormEps == 0 {
		cfg.NormEps = 1e-6
	}
	if hd, ok := hc.Int("head_dim"); ok {
		cfg.HeadDim = hd
	}
	return fromSource(cfg, src, hfNames, attention.RoPEHalf, hc.TieWordEmbeddings, eng)
}

// FromGGUF builds a Llama from a GGUF file's metadata and tensors (src is
// g itself or a wrapper of it). llama.cpp rotates adjacent pairs: its
// converters permute Hugging Face's q/k rows into that layout, and llama2.c
// checkpoints are already in it.
func FromGGUF(g *weights.GGUF, src weights.Source, eng *attention.Engine) (*Model, error) {
	if a := g.Architecture(); a != "llama" {
		return nil, fmt.Errorf("llama: GGUF architecture is %q", a)
	}
	p, err := g.LlamaParams()
	if err != nil {
		return nil, err
	}
	cfg := model.Config{Family: "llama", Dim: p.Dim, HiddenDim: p.HiddenDim, Layers: p.Layers, Heads: p.Heads,
		KVHeads: p.KVHeads, HeadDim: p.HeadDim, VocabSize: p.VocabSize, MaxSeq: p.ContextLength,
		RopeTheta: p.RopeFreqBase, NormEps: float32(p.RMSNormEps)}
	if p.RopeDim != 0 && p.RopeDim != p.HeadDim {
		return nil, fmt.Errorf("llama: partial rotary embeddings (%d of %d dims) are not supported", p.RopeDim, p.HeadDim)
	}
	_, _, hasOut := g.Info(ggufNames.output)
	return fromSource(cfg, src, ggufNames, attention.RoPEInterleaved, !hasOut, eng)
}

// fromSource loads every tensor by name with its expected shape.
func fromSource(cfg model.Config, src weights.Source, n tensorNames, layout attention.RoPELayout, tied bool, eng *attention.Engine) (*Model, error) {
	if cfg.Dim < 1 || cfg.Heads < 1 || cfg.Layers < 1 || cfg.VocabSize < 1 || cfg.HiddenDim < 1 || cfg.MaxSeq < 1 {
		return nil, fmt.Errorf("llama: incomplete configuration %+v", cfg)
	}
	if cfg.HeadDim == 0 {
		cfg.HeadDim = cfg.Dim / cfg.Heads
	}
	if cfg.KVHeads < 1 || cfg.Heads%cfg.KVHeads != 0 {
		return nil, fmt.Errorf("llama: %d kv heads do not divide %d heads", cfg.KVHeads, cfg.Heads)
	}
	rope, err := attention.NewRoPE(layout, cfg.HeadDim, cfg.RopeTheta)
	if err != nil {
		return nil, fmt.Errorf("llama: %w", err)
	}
	d, qd, kvd, hd := cfg.Dim, cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim, cfg.HiddenDim
	ld := &weights.Loader{Src: src, Family: "llama"}
	get := ld.F32
	m := &Model{cfg: cfg, eng: eng, Layers: make([]Layer, cfg.Layers)}
	m.TokEmb = get(n.embed, cfg.VocabSize, d)
	m.RMSFinal = get(n.finalNorm, d)
	if tied {
		m.WCls = m.TokEmb
	} else {
		m.WCls = get(n.output, cfg.VocabSize, d)
	}
	for l := range m.Layers {
		m.Layers[l] = Layer{
			RMSAtt: get(n.attnNorm(l), d),
			Attn: attention.MHA{DModel: d, Heads: cfg.Heads, KVHeads: cfg.KVHeads, HeadDim: cfg.HeadDim, RoPE: rope,
				Wq: get(n.q(l), qd, d), Wk: get(n.k(l), kvd, d), Wv: get(n.v(l), kvd, d), Wo: get(n.o(l), d, qd)},
			RMSFFN: get(n.ffNorm(l), d),
			W1:     get(n.gate(l), hd, d),
			W2:     get(n.down(l), d, hd),
			W3:     get(n.up(l), hd, d),
		}
	}
	if ld.Err != nil {
		return nil, ld.Err
	}
	for l := range m.Layers {
		if err := m.Layers[l].Attn.Check(); err != nil {
			return nil, fmt.Errorf("llama: layer %d: %w", l, err)
		}
	}
	return m, nil
}
