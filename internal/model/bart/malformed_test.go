package bart

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model/internal/famtest"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

// TestMalformedCheckpoint: a missing tensor or a tensor of the wrong shape
// is an error naming it.
func TestMalformedCheckpoint(t *testing.T) {
	hc, src := openFixture(t)
	for _, name := range []string{
		"model.shared.weight", "model.encoder.embed_positions.weight", "model.decoder.layernorm_embedding.bias",
		"model.encoder.layers.1.fc2.weight", "model.decoder.layers.0.encoder_attn.k_proj.bias",
		"model.decoder.layers.1.self_attn.out_proj.weight", "final_logits_bias",
	} {
		ms := copySource(t, src)
		ms.Reshape(name, append([]int{1}, ms.Shape(name)...)...)
		_, err := FromHF(hc, ms, engine())
		if !errors.Is(err, weights.ErrShape) || !strings.Contains(err.Error(), name) {
			t.Errorf("reshaped %s: error %v, want ErrShape naming it", name, err)
		}
		if name == "final_logits_bias" {
			continue // optional: BartModel has none
		}
		ms = copySource(t, src)
		ms.Drop(name)
		_, err = FromHF(hc, ms, engine())
		if !errors.Is(err, weights.ErrNoTensor) || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: error %v, want ErrNoTensor naming it", name, err)
		}
	}
	hc2 := *hc
	hc2.Raw = clone(hc.Raw)
	hc2.Raw["tie_word_embeddings"] = false
	if _, err := FromHF(&hc2, src, engine()); !errors.Is(err, weights.ErrNoTensor) || !strings.Contains(err.Error(), "lm_head.weight") {
		t.Errorf("untied without lm_head.weight: error %v", err)
	}
	hc2.Raw = clone(hc.Raw)
	hc2.Raw["decoder_layers"] = 1.0
	if _, err := FromHF(&hc2, src, engine()); !errors.Is(err, ErrConfig) {
		t.Errorf("one decoder layer declared, two stored: error %v, want ErrConfig", err)
	}
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestOtherLayouts: a BartModel file without the "model." prefix, one whose
// token embedding is stored only as a tied copy, and an untied lm_head all
// load and give the reference logits.
func TestOtherLayouts(t *testing.T) {
	hc, src := openFixture(t)
	r := loadReference(t, "bart_padded")
	f := fixtureInputs(r)
	for name, edit := range map[string]func(*famtest.MemSource, *weights.HFConfig){
		"no prefix": func(ms *famtest.MemSource, _ *weights.HFConfig) {
			for _, n := range ms.Names() {
				if rest, ok := strings.CutPrefix(n, "model."); ok {
					ms.Rename(n, rest)
				}
			}
		},
		"embed_tokens copy": func(ms *famtest.MemSource, _ *weights.HFConfig) {
			ms.Rename("model.shared.weight", "model.decoder.embed_tokens.weight")
		},
		"untied head": func(ms *famtest.MemSource, hc *weights.HFConfig) {
			hc.Raw["tie_word_embeddings"] = false
			ms.Put("lm_head.weight", ms.Shape("model.shared.weight"), ms.Data("model.shared.weight"))
		},
	} {
		ms := copySource(t, src)
		hc2 := *hc
		hc2.Raw = clone(hc.Raw)
		edit(ms, &hc2)
		m, err := FromHF(&hc2, ms, engine())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, logits := forward(t, m, f); maxErr(logits, r.Outputs["logits"].Data) > 1e-4 {
			t.Errorf("%s: logits max abs error %.3g", name, maxErr(logits, r.Outputs["logits"].Data))
		}
	}
}

// TestBadConfig: missing or unusable hyper-parameters are errors that say
// which.
func TestBadConfig(t *testing.T) {
	_, src := openFixture(t)
	for _, tc := range []struct {
		edit func(map[string]any)
		want string
	}{
		{func(m map[string]any) { delete(m, "d_model"); delete(m, "decoder_ffn_dim") }, "d_model, decoder_ffn_dim"},
		{func(m map[string]any) { delete(m, "encoder_attention_heads") }, "encoder_attention_heads"},
		{func(m map[string]any) { m["decoder_attention_heads"] = 5.0 }, "heads 4/5"},
		{func(m map[string]any) { m["activation_function"] = "silu" }, `"silu"`},
		{func(m map[string]any) { m["model_type"] = "mbart" }, "mbart"},
	} {
		hc, err := weights.LoadHFConfig(famtest.Dir("bart"))
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(hc.Raw)
		raw, _ := json.Marshal(hc.Raw)
		if hc, err = weights.ParseHFConfig(raw); err != nil {
			t.Fatal(err)
		}
		_, err = FromHF(hc, src, engine())
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want ErrConfig mentioning %s", err, tc.want)
		}
	}
}

// TestBadInput: inputs that don't fit are errors, and a failed Decode
// leaves the state as it was.
func TestBadInput(t *testing.T) {
	m := loadModel(t)
	if _, err := m.EncodeMemory([]int{0, 104, 2}, 1, 3, nil); err == nil {
		t.Error("source token 104 of a vocabulary of 104 accepted")
	}
	if _, err := m.EncodeMemory(make([]int, 33), 1, 33, nil); err == nil {
		t.Error("33 source tokens accepted with 32 positions")
	}
	if _, err := m.EncodeMemory([]int{0, 5, 2}, 1, 3, []int{4}); err == nil {
		t.Error("length 4 of a 3-token sequence accepted")
	}
	memory, err := m.EncodeMemory([]int{0, 5, 2}, 1, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewState(memory, 2, 3, nil, 4, tensor.F32); err == nil {
		t.Error("memory of one sequence accepted for a batch of two")
	}
	if _, err := m.NewState(memory, 1, 3, nil, 33, tensor.F32); err == nil {
		t.Error("33 target positions accepted with 32 positions")
	}
	st, err := m.NewState(memory, 1, 3, nil, 2, tensor.F32)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decode(st, []int{2, -1}, 2, false); err == nil || st.Pos() != 0 {
		t.Errorf("token -1: error %v, state at %d", err, st.Pos())
	}
	if _, err := m.Decode(st, []int{2, 0, 5}, 3, false); err == nil || st.Pos() != 0 {
		t.Errorf("3 tokens into a state of 2: error %v, state at %d", err, st.Pos())
	}
	if _, err := m.Decode(st, []int{2, 0}, 2, true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decode(st, []int{5}, 1, true); err == nil {
		t.Error("decoding past the state's positions accepted")
	}
}

type keepStats struct{ st map[int]attention.Stats }

func (k *keepStats) ObserveAttention(l int, st *attention.Stats) {
	c := *st
	c.Attended = append([]int32(nil), st.Attended...)
	k.st[l] = c
}

// TestProbe: the encoder probe sees every encoder layer, each query
// attending to its sequence's real source tokens; the decoder's Probe sees
// every decoder layer's causal self-attention (query i attends to i+1
// keys) and CrossProbe every cross-attention (the real source tokens).
func TestProbe(t *testing.T) {
	m := loadModel(t)
	cfg := m.Config()
	f := fixtureInputs(loadReference(t, "bart_padded"))
	enc := &keepStats{st: map[int]attention.Stats{}}
	memory, err := m.Encode(EncodeInput{Tokens: f.src, Batch: f.B, Seq: f.Sk, Lens: f.lens, Probe: enc})
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.NewState(memory, f.B, f.Sk, f.lens, f.Seq, tensor.F32)
	if err != nil {
		t.Fatal(err)
	}
	self, cross := &keepStats{st: map[int]attention.Stats{}}, &keepStats{st: map[int]attention.Stats{}}
	st.Probe, st.CrossProbe = self, cross
	if _, err := m.Decode(st, f.tgt, f.Seq, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name   string
		k      *keepStats
		layers int
		heads  int
		seq    int
		want   func(b, i int) int
	}{
		{"encoder", enc, cfg.EncLayers, cfg.EncHeads, f.Sk, func(b, _ int) int { return f.lens[b] }},
		{"decoder self", self, cfg.DecLayers, cfg.DecHeads, f.Seq, func(_, i int) int { return i + 1 }},
		{"decoder cross", cross, cfg.DecLayers, cfg.DecHeads, f.Seq, func(b, _ int) int { return f.lens[b] }},
	} {
		if len(p.k.st) != p.layers {
			t.Fatalf("%s: probe saw %d layers, want %d", p.name, len(p.k.st), p.layers)
		}
		for l, s := range p.k.st {
			if s.Batch != f.B || s.Heads != p.heads || s.SeqQ != p.seq {
				t.Fatalf("%s layer %d: stats %d × %d × %d", p.name, l, s.Batch, s.Heads, s.SeqQ)
			}
			for b := 0; b < f.B; b++ {
				for h := 0; h < p.heads; h++ {
					for i := 0; i < p.seq; i++ {
						if got := int(s.Attended[(b*p.heads+h)*p.seq+i]); got != p.want(b, i) {
							t.Fatalf("%s layer %d batch %d head %d query %d attended %d keys, want %d", p.name, l, b, h, i, got, p.want(b, i))
						}
					}
				}
			}
		}
	}
}
