package llama_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/model/llama"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

type familyRef struct {
	Inputs, Outputs map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	}
}

func loadFamilyRef(t *testing.T, dir string) familyRef {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r familyRef
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHFFixtures: Llama checkpoints in Hugging Face layout (GQA, half-split
// RoPE; untied, tied, bfloat16 storage) give PyTorch's logits within 1e-4.
func TestHFFixtures(t *testing.T) {
	for _, c := range []string{"llama", "llama_tied", "llama_bf16"} {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join("../../../testdata/families", c)
			hc, err := weights.LoadHFConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			src, err := weights.OpenHFDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			m, err := llama.FromHF(hc, src, attention.NewEngine(kernels.NewPool(2)))
			if err != nil {
				t.Fatal(err)
			}
			ref := loadFamilyRef(t, dir)
			in := ref.Inputs["input_ids"]
			ids := make([]int, len(in.Data))
			for i, v := range in.Data {
				ids[i] = int(v)
			}
			st := model.NewState(m.Config(), 1, len(ids), tensor.F32)
			logits, err := m.Forward(st, ids, len(ids), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			want := ref.Outputs["logits"].Data
			var worst float64
			for i, w := range want {
				worst = math.Max(worst, math.Abs(float64(logits[i])-w))
			}
			t.Logf("max abs logit error %.2g", worst)
			if worst > 1e-4 || len(logits) != len(want) {
				t.Errorf("max abs logit error %.3g > 1e-4 (%d logits, want %d)", worst, len(logits), len(want))
			}
		})
	}
}
