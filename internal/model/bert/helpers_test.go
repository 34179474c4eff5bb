package bert

import (
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model/internal/famtest"
	"github.com/headlight/headlight/internal/weights"
)

type reference = famtest.Reference

var (
	ints       = famtest.Ints
	maxErr     = famtest.MaxErr
	copySource = famtest.CopySource
)

func loadReference(t *testing.T) *reference { return famtest.LoadReference(t, "bert") }

// fixtureInput is the reference batch: ids, types and lengths from the mask.
func fixtureInput(r *reference) EncodeInput {
	ids := r.Inputs["input_ids"]
	B, S := ids.Shape[0], ids.Shape[1]
	lens := make([]int, B)
	for i, v := range r.Inputs["attention_mask"].Data {
		if v != 0 {
			lens[i/S]++
		}
	}
	return EncodeInput{Tokens: ints(ids), TypeIDs: ints(r.Inputs["token_type_ids"]), Batch: B, Seq: S, Lens: lens}
}

func openFixture(t *testing.T) (*weights.HFConfig, weights.Source) { return famtest.OpenHF(t, "bert") }

func engine() *attention.Engine { return attention.NewEngine(kernels.NewPool(3)) }

func loadModel(t *testing.T) *Model {
	t.Helper()
	hc, src := openFixture(t)
	m, err := FromHF(hc, src, engine())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
