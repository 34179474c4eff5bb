package bart

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

func loadReference(t *testing.T, name string) *reference { return famtest.LoadReference(t, name) }

// fixture is a case's inputs: source ids and lengths, and decoder ids.
type fixture struct {
	src        []int // (batch, seqK)
	lens       []int // (batch)
	tgt        []int // (batch, seq)
	B, Sk, Seq int
}

func fixtureInputs(r *reference) fixture {
	ids, dec := r.Inputs["input_ids"], r.Inputs["decoder_input_ids"]
	f := fixture{src: ints(ids), tgt: ints(dec), B: ids.Shape[0], Sk: ids.Shape[1], Seq: dec.Shape[1]}
	f.lens = make([]int, f.B)
	for i, v := range r.Inputs["attention_mask"].Data {
		if v != 0 {
			f.lens[i/f.Sk]++
		}
	}
	return f
}

func openFixture(t *testing.T) (*weights.HFConfig, weights.Source) { return famtest.OpenHF(t, "bart") }

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
