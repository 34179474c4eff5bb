package bert

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model/internal/famtest"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/weights"
)

// TestMalformedCheckpoint: a missing tensor or a tensor of the wrong shape
// is an error naming it.
func TestMalformedCheckpoint(t *testing.T) {
	hc, src := openFixture(t)
	for _, name := range []string{
		"embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias",
		"encoder.layer.1.attention.self.value.bias", "encoder.layer.0.output.dense.weight",
	} {
		ms := copySource(t, src)
		ms.Drop(name)
		_, err := FromHF(hc, ms, engine())
		if !errors.Is(err, weights.ErrNoTensor) || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: error %v, want ErrNoTensor naming it", name, err)
		}
		ms = copySource(t, src)
		ms.Reshape(name, append([]int{1}, ms.Shape(name)...)...)
		_, err = FromHF(hc, ms, engine())
		if !errors.Is(err, weights.ErrShape) || !strings.Contains(err.Error(), name) {
			t.Errorf("reshaped %s: error %v, want ErrShape naming it", name, err)
		}
	}
	hc2 := *hc // a config that disagrees with the tensors
	hc2.Raw = clone(hc.Raw)
	hc2.Raw["intermediate_size"] = 64.0
	if _, err := FromHF(&hc2, src, engine()); !errors.Is(err, weights.ErrShape) {
		t.Errorf("intermediate_size 64 against (96, 48) tensors: error %v, want ErrShape", err)
	}
	hc2.Raw = clone(hc.Raw)
	hc2.Raw["num_hidden_layers"] = 1.0
	if _, err := FromHF(&hc2, src, engine()); !errors.Is(err, ErrConfig) {
		t.Errorf("one layer declared, two stored: error %v, want ErrConfig", err)
	}
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestBadConfig: missing or unusable hyper-parameters are errors that say
// which.
func TestBadConfig(t *testing.T) {
	_, src := openFixture(t)
	for _, tc := range []struct {
		edit func(map[string]any)
		want string
	}{
		{func(m map[string]any) { delete(m, "hidden_size"); delete(m, "vocab_size") }, "hidden_size, vocab_size"},
		{func(m map[string]any) { delete(m, "num_attention_heads") }, "num_attention_heads"},
		{func(m map[string]any) { m["num_attention_heads"] = 5.0 }, "heads 5"},
		{func(m map[string]any) { m["hidden_act"] = "swish" }, `"swish"`},
		{func(m map[string]any) { m["position_embedding_type"] = "relative_key" }, "relative_key"},
		{func(m map[string]any) { m["model_type"] = "roberta" }, "roberta"},
		{func(m map[string]any) { m["layer_norm_eps"] = -1.0 }, "eps -1"},
	} {
		hc, err := weights.LoadHFConfig(famtest.Dir("bert"))
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

// TestExactGELU: the tanh approximation moves the output by more than the
// tolerance, so the fixture test does check which GELU runs.
func TestExactGELU(t *testing.T) {
	m := loadModel(t)
	r := loadReference(t)
	m.act = nn.GELU
	h, _, err := m.Encode(fixtureInput(r))
	if err != nil {
		t.Fatal(err)
	}
	if e := maxErr(h[:7*48], r.Outputs["last_hidden_state"].Data[:7*48]); e < 1e-4 {
		t.Errorf("tanh GELU is within %.3g of the erf reference: the fixture cannot tell them apart", e)
	}
}

type keepStats struct{ st map[int]attention.Stats }

func (k *keepStats) ObserveAttention(l int, st *attention.Stats) {
	c := *st
	c.Entropy = append([]float32(nil), st.Entropy...)
	c.MaxWeight = append([]float32(nil), st.MaxWeight...)
	c.Attended = append([]int32(nil), st.Attended...)
	k.st[l] = c
}

// TestProbe: the probe sees every layer once, with (batch, heads, seq)
// statistics in which each query attends to exactly its sequence's real
// tokens, and whose entropy and max weight agree with the explicit maps.
func TestProbe(t *testing.T) {
	m := loadModel(t)
	in := fixtureInput(loadReference(t))
	cfg := m.Config()
	probe := &keepStats{st: map[int]attention.Stats{}}
	var heads []attention.HeadRef
	for b := 0; b < in.Batch; b++ {
		for h := 0; h < cfg.Heads; h++ {
			heads = append(heads, attention.HeadRef{Batch: b, Head: h})
		}
	}
	maps := map[int][][]float32{}
	in.Probe = probe
	in.Capture = func(int) []attention.HeadRef { return heads }
	in.OnMaps = func(l int, _ []attention.HeadRef, mp [][]float32) { maps[l] = mp }
	if _, _, err := m.Encode(in); err != nil {
		t.Fatal(err)
	}
	if len(probe.st) != cfg.Layers || len(maps) != cfg.Layers {
		t.Fatalf("probe saw %d layers, maps %d; want %d", len(probe.st), len(maps), cfg.Layers)
	}
	S := in.Seq
	for l, s := range probe.st {
		if s.Batch != in.Batch || s.Heads != cfg.Heads || s.SeqQ != S {
			t.Fatalf("layer %d: stats are %d × %d × %d", l, s.Batch, s.Heads, s.SeqQ)
		}
		for k, hr := range heads {
			for i := 0; i < S; i++ {
				ri := (hr.Batch*cfg.Heads+hr.Head)*S + i
				if int(s.Attended[ri]) != in.Lens[hr.Batch] {
					t.Fatalf("layer %d batch %d head %d query %d attended %d keys, want %d", l, hr.Batch, hr.Head, i, s.Attended[ri], in.Lens[hr.Batch])
				}
				var ent, mx float64
				for _, p := range maps[l][k][i*S : (i+1)*S] {
					if p > 0 {
						ent -= float64(p) * math.Log(float64(p))
					}
					mx = math.Max(mx, float64(p))
				}
				if math.Abs(ent-float64(s.Entropy[ri])) > 1e-4 || math.Abs(mx-float64(s.MaxWeight[ri])) > 1e-5 {
					t.Fatalf("layer %d batch %d head %d query %d: stats (%v, %v), map (%v, %v)", l, hr.Batch, hr.Head, i, s.Entropy[ri], s.MaxWeight[ri], ent, mx)
				}
			}
		}
	}
}
