package gpt2

import (
	"bytes"
	"math"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/model/internal/famtest"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

func load(t *testing.T) *Model {
	t.Helper()
	hc, src := famtest.OpenHF(t, "gpt2")
	m, err := FromHF(hc, src, attention.NewEngine(kernels.NewPool(2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFixture: a right-padded batch of two sequences (9 and 6 tokens) gives
// PyTorch's logits at every real position within 1e-4; then decoding the
// same tokens one at a time through the cache gives the same logits.
func TestFixture(t *testing.T) { checkFixture(t, load(t)) }

// TestFixturePacked: with its weights packed as every engine load packs
// them (StoreWeights(F32): attention and MLP through kernels.MatMulPanels)
// the model still gives PyTorch's logits, and written back as GGUF from
// the packed stores it reads back the same.
func TestFixturePacked(t *testing.T) {
	m := load(t)
	layers := 0
	if err := m.StoreWeights(tensor.F32, func() { layers++ }); err != nil {
		t.Fatal(err)
	}
	L := m.Layers[0]
	if layers != len(m.Layers) || L.WFc != nil || L.Attn.Wq != nil || !L.Stored.FC.Packed() || !L.Attn.Stored.Wv.Packed() {
		t.Fatalf("StoreWeights: %d callbacks for %d layers, float32 slices kept or stores not packed", layers, len(m.Layers))
	}
	checkFixture(t, m)
	checkFixture(t, ggufRoundTrip(t, m))
}

// TestGGUFRoundTrip: the fixture model written as GGUF (llama.cpp's GPT-2
// layout) and read back gives PyTorch's logits too.
func TestGGUFRoundTrip(t *testing.T) { checkFixture(t, ggufRoundTrip(t, load(t))) }

// ggufRoundTrip writes m as a float32 GGUF file in memory and reads it back.
func ggufRoundTrip(t *testing.T, m *Model) *Model {
	t.Helper()
	w := weights.NewGGUFWriter()
	if err := m.WriteGGUF(w, "toy", "F32"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := weights.ParseGGUF(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromGGUF(g, g, attention.NewEngine(kernels.NewPool(2)))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func checkFixture(t *testing.T, m *Model) {
	r := famtest.LoadReference(t, "gpt2")
	B, S, V := 2, 9, m.Config().VocabSize
	ids := make([]int, B*S)
	lens := make([]int, B)
	for i, v := range r.Inputs["input_ids"].Data {
		ids[i] = int(v)
		if r.Inputs["attention_mask"].Data[i] != 0 {
			lens[i/S]++
		}
	}
	want := r.Outputs["logits"].Data
	check := func(name string, got []float32, b, i int) {
		t.Helper()
		var worst float64
		for v := 0; v < V; v++ {
			worst = math.Max(worst, math.Abs(float64(got[v])-want[(b*S+i)*V+v]))
		}
		if worst > 1e-4 {
			t.Errorf("%s: batch %d position %d: max abs logit error %.3g", name, b, i, worst)
		}
	}
	st := model.NewState(m.Config(), B, S, tensor.F32)
	logits, err := m.Forward(st, ids, S, lens, false)
	if err != nil {
		t.Fatal(err)
	}
	for bb := 0; bb < B; bb++ {
		for i := 0; i < lens[bb]; i++ {
			check("batch", logits[(bb*S+i)*V:], bb, i)
		}
	}
	for bb := 0; bb < B; bb++ { // alone, one token at a time
		st := model.NewState(m.Config(), 1, S, tensor.F32)
		for i := 0; i < lens[bb]; i++ {
			one, err := m.Forward(st, []int{ids[bb*S+i]}, 1, nil, true)
			if err != nil {
				t.Fatal(err)
			}
			check("decode", one, bb, i)
		}
	}
}

func TestBadCheckpoint(t *testing.T) {
	hc, src := famtest.OpenHF(t, "gpt2")
	hc.VocabSize++ // the embedding no longer has this shape
	if _, err := FromHF(hc, src, attention.NewEngine(nil)); err == nil {
		t.Fatal("a config that disagrees with the tensors was accepted")
	}
}
