package gpt2

import (
	"fmt"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/weights"
)

// FromGGUF builds a GPT-2 from a GGUF file in llama.cpp's layout: metadata
// under "gpt2.", tensors token_embd, position_embd, blk.N.{attn_norm,
// attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down}, output_norm, and an
// optional output (else tied to token_embd). Linear weights are (out, in),
// the fused QKV rows q | k | v. src is g itself or a wrapper of it.
func FromGGUF(g *weights.GGUF, src weights.Source, eng *attention.Engine) (*Model, error) {
	if a := g.Architecture(); a != "gpt2" {
		return nil, fmt.Errorf("gpt2: GGUF architecture is %q", a)
	}
	need := func(key string) (int, error) {
		v, ok := g.GetInt("gpt2." + key)
		if !ok || v < 1 || v > 1<<24 {
			return 0, fmt.Errorf("gpt2: GGUF metadata gpt2.%s missing or out of range", key)
		}
		return int(v), nil
	}
	var cfg model.Config
	var err error
	for _, f := range []struct {
		key string
		dst *int
	}{{"embedding_length", &cfg.Dim}, {"feed_forward_length", &cfg.HiddenDim}, {"block_count", &cfg.Layers},
		{"attention.head_count", &cfg.Heads}, {"context_length", &cfg.MaxSeq}} {
		if *f.dst, err = need(f.key); err != nil {
			return nil, err
		}
	}
	eps, ok := g.GetFloat("gpt2.attention.layer_norm_epsilon")
	if !ok {
		eps = 1e-5
	}
	shape, _, ok := g.Info("token_embd.weight")
	if !ok || len(shape) != 2 {
		return nil, fmt.Errorf("gpt2: GGUF has no 2-D token_embd.weight")
	}
	cfg.Family, cfg.KVHeads, cfg.VocabSize, cfg.NormEps = "gpt2", cfg.Heads, shape[0], float32(eps)
	if cfg.Dim%cfg.Heads != 0 {
		return nil, fmt.Errorf("gpt2: %d heads do not divide width %d", cfg.Heads, cfg.Dim)
	}
	cfg.HeadDim = cfg.Dim / cfg.Heads
	d, inner := cfg.Dim, cfg.HiddenDim
	ld := &weights.Loader{Src: src, Family: "gpt2"}
	get := ld.F32
	m := &Model{cfg: cfg, eng: eng, Layers: make([]Layer, cfg.Layers)}
	m.WTE = get("token_embd.weight", cfg.VocabSize, d)
	m.WPE = get("position_embd.weight", cfg.MaxSeq, d)
	m.LNFW, m.LNFB = get("output_norm.weight", d), get("output_norm.bias", d)
	if _, _, ok := g.Info("output.weight"); ok {
		return nil, fmt.Errorf("gpt2: an untied output.weight is not supported")
	}
	for l := range m.Layers {
		p := fmt.Sprintf("blk.%d.", l)
		wqkv := get(p+"attn_qkv.weight", 3*d, d) // (3·dim, dim): rows q | k | v
		bqkv := get(p+"attn_qkv.bias", 3*d)
		L := Layer{
			LN1W: get(p+"attn_norm.weight", d), LN1B: get(p+"attn_norm.bias", d),
			LN2W: get(p+"ffn_norm.weight", d), LN2B: get(p+"ffn_norm.bias", d),
			WFc: get(p+"ffn_up.weight", inner, d), BFc: get(p+"ffn_up.bias", inner),
			WProj: get(p+"ffn_down.weight", d, inner), BProj: get(p+"ffn_down.bias", d),
		}
		wo, bo := get(p+"attn_output.weight", d, d), get(p+"attn_output.bias", d)
		if ld.Err != nil {
			return nil, ld.Err
		}
		L.Attn = attention.MHA{DModel: d, Heads: cfg.Heads,
			Wq: wqkv[:d*d], Wk: wqkv[d*d : 2*d*d], Wv: wqkv[2*d*d:],
			Bq: bqkv[:d], Bk: bqkv[d : 2*d], Bv: bqkv[2*d:], Wo: wo, Bo: bo}
		if err := L.Attn.Check(); err != nil {
			return nil, fmt.Errorf("gpt2: layer %d: %w", l, err)
		}
		m.Layers[l] = L
	}
	return m, nil
}

// WriteGGUF adds the model's metadata and tensors to w in llama.cpp's GPT-2
// layout (the inverse of FromGGUF), storing matrices as dtype and norms and
// biases as F32. The caller adds the tokenizer's metadata.
func (m *Model) WriteGGUF(w *weights.GGUFWriter, name, dtype string) error {
	c := m.cfg
	w.SetString("general.architecture", "gpt2")
	w.SetString("general.name", name)
	w.SetUint32("gpt2.context_length", uint32(c.MaxSeq))
	w.SetUint32("gpt2.embedding_length", uint32(c.Dim))
	w.SetUint32("gpt2.feed_forward_length", uint32(c.HiddenDim))
	w.SetUint32("gpt2.block_count", uint32(c.Layers))
	w.SetUint32("gpt2.attention.head_count", uint32(c.Heads))
	w.SetFloat32("gpt2.attention.layer_norm_epsilon", c.NormEps)
	d, inner := c.Dim, c.HiddenDim
	add := func(name, dt string, data []float32, shape ...int) error {
		return w.AddTensor(name, shape, dt, data)
	}
	type t struct {
		name  string
		dt    string
		data  []float32
		shape []int
	}
	ts := []t{{"token_embd.weight", dtype, m.WTE, []int{c.VocabSize, d}}, {"position_embd.weight", "F32", m.WPE, []int{c.MaxSeq, d}}}
	for l := range m.Layers {
		L := &m.Layers[l]
		p := fmt.Sprintf("blk.%d.", l)
		aw, mw := L.Attn.Weights(), L.mlp()
		qkv := append(append(append([]float32{}, aw.Wq.Values()...), aw.Wk.Values()...), aw.Wv.Values()...) // a new slice: Values may be the model's own
		bqkv := append(append(append([]float32{}, L.Attn.Bq...), L.Attn.Bk...), L.Attn.Bv...)
		ts = append(ts,
			t{p + "attn_norm.weight", "F32", L.LN1W, []int{d}}, t{p + "attn_norm.bias", "F32", L.LN1B, []int{d}},
			t{p + "attn_qkv.weight", dtype, qkv, []int{3 * d, d}}, t{p + "attn_qkv.bias", "F32", bqkv, []int{3 * d}},
			t{p + "attn_output.weight", dtype, aw.Wo.Values(), []int{d, d}}, t{p + "attn_output.bias", "F32", L.Attn.Bo, []int{d}},
			t{p + "ffn_norm.weight", "F32", L.LN2W, []int{d}}, t{p + "ffn_norm.bias", "F32", L.LN2B, []int{d}},
			t{p + "ffn_up.weight", dtype, mw.FC.Values(), []int{inner, d}}, t{p + "ffn_up.bias", "F32", L.BFc, []int{inner}},
			t{p + "ffn_down.weight", dtype, mw.Proj.Values(), []int{d, inner}}, t{p + "ffn_down.bias", "F32", L.BProj, []int{d}})
	}
	ts = append(ts, t{"output_norm.weight", "F32", m.LNFW, []int{d}}, t{"output_norm.bias", "F32", m.LNFB, []int{d}})
	for _, x := range ts {
		if err := add(x.name, x.dt, x.data, x.shape...); err != nil {
			return fmt.Errorf("gpt2: %s: %w", x.name, err)
		}
	}
	return nil
}
