package llama_test

import (
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/model/internal/famtest"
	"github.com/headlight/headlight/internal/model/llama"
	"github.com/headlight/headlight/internal/tensor"
)

// TestHFFixtures: Llama checkpoints in Hugging Face layout (GQA, half-split
// RoPE; untied, tied, bfloat16 storage) give PyTorch's logits within 1e-4.
func TestHFFixtures(t *testing.T) {
	for _, c := range []string{"llama", "llama_tied", "llama_bf16"} {
		t.Run(c, func(t *testing.T) {
			hc, src := famtest.OpenHF(t, c)
			m, err := llama.FromHF(hc, src, attention.NewEngine(kernels.NewPool(2)))
			if err != nil {
				t.Fatal(err)
			}
			ref := famtest.LoadReference(t, c)
			ids := famtest.Ints(ref.Inputs["input_ids"])
			st := model.NewState(m.Config(), 1, len(ids), tensor.F32)
			logits, err := m.Forward(st, ids, len(ids), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			worst := famtest.MaxErr(logits, ref.Outputs["logits"].Data)
			t.Logf("max abs logit error %.2g", worst)
			if worst > 1e-4 {
				t.Errorf("max abs logit error %.3g > 1e-4", worst)
			}
		})
	}
}
