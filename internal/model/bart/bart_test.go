package bart

import (
	"math"
	"testing"

	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
)

var cases = []string{"bart", "bart_padded"}

// forward encodes the source and decodes the whole target at once.
func forward(t *testing.T, m *Model, f fixture) (memory, logits []float32) {
	t.Helper()
	memory, err := m.EncodeMemory(f.src, f.B, f.Sk, f.lens)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.NewState(memory, f.B, f.Sk, f.lens, f.Seq, tensor.F32)
	if err != nil {
		t.Fatal(err)
	}
	logits, err = m.Decode(st, f.tgt, f.Seq, false)
	if err != nil {
		t.Fatal(err)
	}
	return memory, logits
}

// TestFixture: PyTorch's BartForConditionalGeneration — the encoder's last
// hidden state at every real source position, and the logits of the whole
// decoder input — within 1e-4, for one sequence and for a padded batch.
func TestFixture(t *testing.T) {
	m := loadModel(t)
	d, V := m.Config().Dim, m.Config().VocabSize
	for _, name := range cases {
		r := loadReference(t, name)
		f := fixtureInputs(r)
		memory, logits := forward(t, m, f)
		want := r.Outputs["encoder_last_hidden_state"].Data
		var worst, worstPad float64
		for b := 0; b < f.B; b++ {
			for i := 0; i < f.Sk; i++ {
				e := maxErr(memory[(b*f.Sk+i)*d:(b*f.Sk+i+1)*d], want[(b*f.Sk+i)*d:(b*f.Sk+i+1)*d])
				if i < f.lens[b] {
					worst = math.Max(worst, e)
				} else {
					worstPad = math.Max(worstPad, e)
				}
			}
		}
		t.Logf("%s: encoder_last_hidden_state max abs error %.3g at real positions (%.3g on padding rows, not part of the contract)", name, worst, worstPad)
		if worst > 1e-4 {
			t.Errorf("%s: encoder_last_hidden_state max abs error %.3g > 1e-4", name, worst)
		}
		e := maxErr(logits, r.Outputs["logits"].Data)
		t.Logf("%s: logits (%d × %d × %d) max abs error %.3g", name, f.B, f.Seq, V, e)
		if e > 1e-4 {
			t.Errorf("%s: logits max abs error %.3g > 1e-4", name, e)
		}
	}
}

// TestStepwise: decoding the target one token at a time through the KV
// cache gives the full forward's logits (and so PyTorch's) at every step.
func TestStepwise(t *testing.T) {
	m := loadModel(t)
	V := m.Config().VocabSize
	for _, name := range cases {
		r := loadReference(t, name)
		f := fixtureInputs(r)
		memory, full := forward(t, m, f)
		st, err := m.NewState(memory, f.B, f.Sk, f.lens, f.Seq, tensor.F32)
		if err != nil {
			t.Fatal(err)
		}
		var worstFull, worstRef float64
		for i := 0; i < f.Seq; i++ {
			step := make([]int, f.B)
			for b := range step {
				step[b] = f.tgt[b*f.Seq+i]
			}
			got, err := m.Decode(st, step, 1, true)
			if err != nil {
				t.Fatal(err)
			}
			for b := 0; b < f.B; b++ {
				row := (b*f.Seq + i) * V
				worstFull = math.Max(worstFull, maxErr(got[b*V:(b+1)*V], widen(full[row:row+V])))
				worstRef = math.Max(worstRef, maxErr(got[b*V:(b+1)*V], r.Outputs["logits"].Data[row:row+V]))
			}
		}
		t.Logf("%s: step by step vs full forward %.3g, vs PyTorch %.3g", name, worstFull, worstRef)
		if worstFull > 1e-5 || worstRef > 1e-4 {
			t.Errorf("%s: step-by-step logits differ by %.3g from the full forward, %.3g from PyTorch", name, worstFull, worstRef)
		}
		if st.Pos() != f.Seq {
			t.Errorf("%s: state at %d positions after %d steps", name, st.Pos(), f.Seq)
		}
	}
}

func widen(x []float32) []float64 {
	w := make([]float64, len(x))
	for i, v := range x {
		w[i] = float64(v)
	}
	return w
}

// TestGreedy: greedy decoding from decoder_start_token_id, one token at a
// time, for a padded batch; then one full forward over the generated
// sequences gives the same logits at every step, and its argmaxes are the
// generated tokens.
func TestGreedy(t *testing.T) {
	m := loadModel(t)
	cfg := m.Config()
	V := cfg.VocabSize
	f := fixtureInputs(loadReference(t, "bart_padded"))
	memory, err := m.EncodeMemory(f.src, f.B, f.Sk, f.lens)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 20
	st, err := m.NewState(memory, f.B, f.Sk, f.lens, steps, tensor.F32)
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([][]int, f.B)  // fed tokens per sequence
	stepLogits := [][]float32{} // (step) (batch, vocab)
	next := make([]int, f.B)
	for b := range next {
		next[b] = cfg.DecoderStart
	}
	for i := 0; i < steps; i++ {
		logits, err := m.Decode(st, next, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		stepLogits = append(stepLogits, logits)
		for b := range next {
			seqs[b] = append(seqs[b], next[b])
			next[b] = nn.Argmax(logits[b*V : (b+1)*V])
		}
	}
	st2, err := m.NewState(memory, f.B, f.Sk, f.lens, steps, tensor.F32)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]int(nil), seqs[0]...), seqs[1]...)
	full, err := m.Decode(st2, all, steps, false)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for b := 0; b < f.B; b++ {
		for i := 0; i < steps; i++ {
			row := full[(b*steps+i)*V : (b*steps+i+1)*V]
			worst = math.Max(worst, maxErr(stepLogits[i][b*V:(b+1)*V], widen(row)))
			if i+1 < steps && nn.Argmax(row) != seqs[b][i+1] {
				t.Errorf("sequence %d step %d: full forward argmax %d, greedy fed %d", b, i, nn.Argmax(row), seqs[b][i+1])
			}
		}
	}
	t.Logf("greedy %d steps: %v / %v; step vs full max abs difference %.3g", steps, seqs[0], seqs[1], worst)
	if worst > 1e-5 {
		t.Errorf("step-by-step logits differ from the full forward by %.3g", worst)
	}
}

// TestAlone: the short sequence of bart_padded, encoded and decoded alone
// without padding, gives the reference rows; and cross-attention that does
// not hide the padded source positions would not (so the test can fail).
func TestAlone(t *testing.T) {
	m := loadModel(t)
	r := loadReference(t, "bart_padded")
	f := fixtureInputs(r)
	d, V := m.Config().Dim, m.Config().VocabSize
	n := f.lens[1]
	one := fixture{src: f.src[f.Sk : f.Sk+n], lens: nil, tgt: f.tgt[f.Seq:], B: 1, Sk: n, Seq: f.Seq}
	memory, logits := forward(t, m, one)
	if e := maxErr(memory, r.Outputs["encoder_last_hidden_state"].Data[f.Sk*d:(f.Sk+n)*d]); e > 1e-4 {
		t.Errorf("alone: encoder max abs error %.3g", e)
	}
	if e := maxErr(logits, r.Outputs["logits"].Data[f.Seq*V:]); e > 1e-4 {
		t.Errorf("alone: logits max abs error %.3g", e)
	}
	memory, err := m.EncodeMemory(f.src, f.B, f.Sk, f.lens)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.NewState(memory, f.B, f.Sk, nil, f.Seq, tensor.F32) // padding visible
	if err != nil {
		t.Fatal(err)
	}
	if logits, err = m.Decode(st, f.tgt, f.Seq, false); err != nil {
		t.Fatal(err)
	}
	if e := maxErr(logits[f.Seq*V:], r.Outputs["logits"].Data[f.Seq*V:]); e < 1e-3 {
		t.Errorf("cross-attention over padded keys moved the logits by only %.3g", e)
	}
}
