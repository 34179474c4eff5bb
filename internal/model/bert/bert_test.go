package bert

import (
	"math"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/tensor"
)

// TestFixture: PyTorch's BertModel on a padded batch with token types —
// last_hidden_state at every real position, pooler_output, and the
// sentence-transformers mean pooling (plain and L2-normalised) computed from
// our hidden states — within 1e-4, with the weights as loaded and packed
// (StoreWeights(F32), as engine.LoadEmbedder keeps them).
func TestFixture(t *testing.T) {
	for _, packed := range []bool{false, true} {
		t.Run(map[bool]string{false: "rowmajor", true: "packed"}[packed], func(t *testing.T) {
			m := loadModel(t)
			if packed {
				if err := m.StoreWeights(tensor.F32, nil); err != nil {
					t.Fatal(err)
				}
				if L := m.Layers[0]; L.WI != nil || !L.Stored.O.Packed() || !L.Attn.Stored.Wq.Packed() {
					t.Fatal("StoreWeights(F32) did not pack the weights")
				}
			}
			checkFixture(t, m)
		})
	}
}

func checkFixture(t *testing.T, m *Model) {
	r := loadReference(t)
	in := fixtureInput(r)
	hidden, pooled, err := m.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	B, S, d := in.Batch, in.Seq, m.Config().Dim
	want := r.Outputs["last_hidden_state"].Data
	var worst, worstPad float64
	for b := 0; b < B; b++ {
		for i := 0; i < S; i++ {
			e := maxErr(hidden[(b*S+i)*d:(b*S+i+1)*d], want[(b*S+i)*d:(b*S+i+1)*d])
			if i < in.Lens[b] {
				worst = math.Max(worst, e)
			} else {
				worstPad = math.Max(worstPad, e)
			}
		}
	}
	t.Logf("last_hidden_state: max abs error %.3g at real positions (%.3g on padding rows, not part of the contract)", worst, worstPad)
	if worst > 1e-4 {
		t.Errorf("last_hidden_state: max abs error %.3g > 1e-4", worst)
	}
	if e := maxErr(pooled, r.Outputs["pooler_output"].Data); e > 1e-4 {
		t.Errorf("pooler_output: max abs error %.3g > 1e-4", e)
	} else {
		t.Logf("pooler_output: max abs error %.3g", e)
	}
	mean := make([]float32, B*d)
	norm := make([]float32, B*d)
	for b := 0; b < B; b++ {
		var ss float64
		for c := 0; c < d; c++ {
			var s float64
			for i := 0; i < in.Lens[b]; i++ {
				s += float64(hidden[(b*S+i)*d+c])
			}
			s /= float64(in.Lens[b])
			mean[b*d+c] = float32(s)
			ss += s * s
		}
		for c := 0; c < d; c++ {
			norm[b*d+c] = float32(float64(mean[b*d+c]) / math.Max(math.Sqrt(ss), 1e-12))
		}
	}
	for name, got := range map[string][]float32{"mean_pooled": mean, "mean_pooled_normalized": norm} {
		e := maxErr(got, r.Outputs[name].Data)
		t.Logf("%s: max abs error %.3g", name, e)
		if e > 1e-4 {
			t.Errorf("%s: max abs error %.3g > 1e-4", name, e)
		}
	}
}

// TestAlone: each sequence encoded alone, unpadded, matches the reference
// rows of the padded batch (padding must not leak into real positions).
func TestAlone(t *testing.T) {
	m := loadModel(t)
	r := loadReference(t)
	in := fixtureInput(r)
	S, d := in.Seq, m.Config().Dim
	want := r.Outputs["last_hidden_state"].Data
	for b := 0; b < in.Batch; b++ {
		n := in.Lens[b]
		one := EncodeInput{Tokens: in.Tokens[b*S : b*S+n], TypeIDs: in.TypeIDs[b*S : b*S+n], Batch: 1, Seq: n}
		h, _, err := m.Encode(one)
		if err != nil {
			t.Fatal(err)
		}
		if e := maxErr(h, want[b*S*d:(b*S+n)*d]); e > 1e-4 {
			t.Errorf("sequence %d alone: max abs error %.3g", b, e)
		}
	}
	// Wrong token types must move the result: the test can fail.
	in.TypeIDs = nil
	h, _, err := m.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxErr(h[:in.Lens[0]*d], want[:in.Lens[0]*d]); e < 1e-2 {
		t.Errorf("ignoring token types changed the output by only %.3g", e)
	}
}

// TestPrefixAndPooler: a BertFor* checkpoint ("bert." prefix, extra cls.*
// heads) loads to the same model; a checkpoint without a pooler gives nil
// pooled output and the same hidden state.
func TestPrefixAndPooler(t *testing.T) {
	hc, src := openFixture(t)
	r := loadReference(t)
	in := fixtureInput(r)
	ms := copySource(t, src)
	for _, n := range ms.Names() {
		ms.Rename(n, "bert."+n)
	}
	ms.Put("cls.predictions.bias", []int{103}, make([]float32, 103))
	m, err := FromHF(hc, ms, engine())
	if err != nil {
		t.Fatal(err)
	}
	h, p, err := m.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Config().Dim
	if e := maxErr(h[:in.Lens[0]*d], r.Outputs["last_hidden_state"].Data[:in.Lens[0]*d]); e > 1e-4 {
		t.Errorf("bert. prefix: max abs error %.3g", e)
	}
	if e := maxErr(p, r.Outputs["pooler_output"].Data); e > 1e-4 {
		t.Errorf("bert. prefix: pooler max abs error %.3g", e)
	}
	ms.Drop("bert.pooler.dense.weight")
	ms.Drop("bert.pooler.dense.bias")
	m, err = FromHF(hc, ms, engine())
	if err != nil {
		t.Fatal(err)
	}
	if _, p, err = m.Encode(in); err != nil || p != nil {
		t.Errorf("without a pooler: pooled %v, err %v; want nil, nil", p != nil, err)
	}
}

// TestBadInput: inputs that don't fit the model are errors, not panics.
func TestBadInput(t *testing.T) {
	m := loadModel(t)
	ok := func() EncodeInput {
		return EncodeInput{Tokens: []int{101, 5, 102, 0}, TypeIDs: []int{0, 0, 0, 0}, Batch: 1, Seq: 4, Lens: []int{3}}
	}
	if _, _, err := m.Encode(ok()); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*EncodeInput){
		"token id":      func(in *EncodeInput) { in.Tokens[1] = 103 },
		"negative id":   func(in *EncodeInput) { in.Tokens[1] = -1 },
		"token type":    func(in *EncodeInput) { in.TypeIDs[1] = 2 },
		"types length":  func(in *EncodeInput) { in.TypeIDs = in.TypeIDs[:3] },
		"tokens length": func(in *EncodeInput) { in.Seq = 3 },
		"length 0":      func(in *EncodeInput) { in.Lens[0] = 0 },
		"length > seq":  func(in *EncodeInput) { in.Lens[0] = 5 },
		"lens count":    func(in *EncodeInput) { in.Lens = []int{3, 3} },
		"too long": func(in *EncodeInput) {
			in.Tokens, in.TypeIDs, in.Seq, in.Lens = make([]int, 33), nil, 33, nil
		},
	} {
		in := ok()
		mutate(&in)
		if _, _, err := m.Encode(in); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "bert: ") {
			t.Errorf("%s: error %q does not name the family", name, err)
		}
	}
}
