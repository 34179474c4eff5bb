package engine

import (
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model/llama"
	"github.com/headlight/headlight/internal/tensor"
)

// TestLoadWeights: every layer's projections and feed-forward weights are
// packed: the default in float32 (tensor.PackF32), Weights: BF16 or F16
// rounded (tensor.PackHalf); the float32 slices are dropped either way.
func TestLoadWeights(t *testing.T) {
	eng := attention.NewEngine(kernels.NewPool(1))
	for _, d := range []tensor.DType{tensor.F32, tensor.BF16, tensor.F16} {
		ld, err := LoadWithOptions("", "", eng, LoadOptions{Weights: d})
		if err != nil {
			t.Fatal(err)
		}
		m := ld.Model.(*llama.Model)
		for l, L := range m.Layers {
			if L.Stored == nil || L.Attn.Stored == nil || L.W1 != nil || L.Attn.Wq != nil {
				t.Fatalf("%v: layer %d keeps float32 slices", d, l)
			}
			for _, s := range []tensor.Store{L.Stored.W1, L.Stored.W2, L.Stored.W3, L.Attn.Stored.Wq, L.Attn.Stored.Wk, L.Attn.Stored.Wv, L.Attn.Stored.Wo} {
				if s.DType() != d || !s.Packed() {
					t.Fatalf("%v: layer %d has a %v store, packed %v", d, l, s.DType(), s.Packed())
				}
			}
		}
		ld.Close()
	}
}
