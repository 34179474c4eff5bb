package engine

import (
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model/llama"
	"github.com/headlight/headlight/internal/tensor"
)

// TestLoadWeights: the default keeps the float32 weights; Weights: BF16
// rounds every layer's projections and feed-forward weights.
func TestLoadWeights(t *testing.T) {
	eng := attention.NewEngine(kernels.NewPool(1))
	for _, d := range []tensor.DType{tensor.F32, tensor.BF16, tensor.F16} {
		ld, err := LoadWithOptions("", "", eng, LoadOptions{Weights: d})
		if err != nil {
			t.Fatal(err)
		}
		m := ld.Model.(*llama.Model)
		for l, L := range m.Layers {
			half := L.Stored != nil && L.Attn.Stored != nil
			if half != (d != tensor.F32) || half && (L.Stored.W2.DType() != d || L.Attn.Stored.Wo.DType() != d || L.W1 != nil) {
				t.Fatalf("%v: layer %d keeps the wrong weights", d, l)
			}
		}
		ld.Close()
	}
}
