package llama_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/model/llama"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

// randomLlama is a small random Llama (weights normal σ 0.02 except norms 1,
// as `headlight synth` writes) of an awkward shape: k%8 ≠ 0 for the down
// projection, a vocabulary and widths that are not multiples of 8, grouped
// heads.
func randomLlama(t *testing.T, seed uint64) *llama.Model {
	t.Helper()
	cfg := weights.Llama2CConfig{Dim: 72, HiddenDim: 100, Layers: 3, Heads: 6, KVHeads: 3, VocabSize: 131, SeqLen: 64, SharedClassifier: true}
	r := rand.New(rand.NewPCG(seed, 7))
	w := &weights.Llama2C{Config: cfg}
	d, h, L, kv := cfg.Dim, cfg.HiddenDim, cfg.Layers, cfg.KVDim()
	for _, f := range []struct {
		dst   *[]float32
		n     int
		scale float64 // 0: all ones
	}{
		{&w.TokenEmbedding, cfg.VocabSize * d, 0.02}, {&w.RMSAtt, L * d, 0}, {&w.WQ, L * d * d, 0.02},
		{&w.WK, L * kv * d, 0.02}, {&w.WV, L * kv * d, 0.02}, {&w.WO, L * d * d, 0.02}, {&w.RMSFFN, L * d, 0},
		{&w.W1, L * h * d, 0.02}, {&w.W2, L * d * h, 0.02}, {&w.W3, L * h * d, 0.02}, {&w.RMSFinal, d, 0},
	} {
		x := make([]float32, f.n)
		for i := range x {
			x[i] = 1
			if f.scale != 0 {
				x[i] = float32(r.NormFloat64() * f.scale)
			}
		}
		*f.dst = x
	}
	w.WCls = w.TokenEmbedding
	m, err := llama.FromLlama2C(w, attention.NewEngine(kernels.NewPool(2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// logitsBoth returns the logits of toks from one prefill call (products
// with m = len(toks): the widening path) and from decoding them one at a
// time (m = 1: the half-precision matrix–vector kernels).
func logitsBoth(t *testing.T, m *llama.Model, toks []int) (prefill, decode []float32) {
	t.Helper()
	n := len(toks)
	st := model.NewState(m.Config(), 1, n, tensor.F32)
	prefill, err := m.Forward(st, toks, n, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	st = model.NewState(m.Config(), 1, n, tensor.F32)
	for _, tok := range toks {
		one, err := m.Forward(st, []int{tok}, 1, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		decode = append(decode, one...)
	}
	return prefill, decode
}

// relErr is ‖got − want‖₂ / ‖want‖₂ over one position's logits.
func relErr(got, want []float32) float64 {
	var d, w float64
	for i := range want {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		w += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d / w)
}

// TestHalfWeights compares a model whose projection and feed-forward
// weights are kept in bfloat16 (or float16) with the float32 model, logit
// vector by logit vector, on the embedded model and a random one, through
// prefill and decoding.
//
// The tolerance comes from the rounding: a weight rounded to nearest even
// with p significant bits moves by at most u = 2^-p relative (bfloat16 p = 8
// → u = 2^-9 ≈ 0.002; float16 p = 11 → 2^-12 … 2^-11 for our small
// weights, take 2^-11). A product y = W·x then moves by at most u·|W|·|x|,
// which for inputs not aligned with the rows is about u·‖y‖; along the
// residual stream the P = 4·layers + 1 products of a path (QKV, output,
// gate/up, down per layer, the classifier — which stays float32 and is
// counted as margin) add such relative errors to first order, so the
// logits' relative error stays below P·u. Measured errors are a few times
// smaller (errors of independent weights partly cancel); the test also
// demands that the error is not zero (the weights were rounded) and that
// bfloat16 errs more than float16. In the bfloat16 dot mode (BF16Dot) the
// prefill also rounds each product's input x to bfloat16: two factors of
// relative error 2^-9 each, so u = 2^-8 (decoding keeps BF16's product).
func TestHalfWeights(t *testing.T) {
	ref := loadReference(t)
	for _, c := range []struct {
		name string
		m    func() *llama.Model
		toks []int
	}{
		{"stories260K", func() *llama.Model { return stories(t, 2) }, ref.Tokens[:24]},
		{"random", func() *llama.Model { return randomLlama(t, 1) }, []int{1, 17, 130, 5, 99, 42, 42, 7, 64, 3, 120, 11, 0, 77}},
	} {
		m32 := c.m()
		pre32, dec32 := logitsBoth(t, m32, c.toks)
		P := float64(4*m32.Config().Layers + 1)
		V := m32.Config().VocabSize
		worst := map[tensor.DType]float64{}
		for _, d := range []tensor.DType{tensor.BF16, tensor.F16, tensor.BF16Dot} {
			u := map[tensor.DType]float64{tensor.BF16: 0x1p-9, tensor.F16: 0x1p-11, tensor.BF16Dot: 0x1p-8}[d]
			mh := c.m()
			if err := mh.StoreWeights(d, nil); err != nil {
				t.Fatal(err)
			}
			if mh.Layers[0].W1 != nil || mh.Layers[0].Attn.Wq != nil {
				t.Fatalf("%s %v: float32 weights kept", c.name, d)
			}
			pre, dec := logitsBoth(t, mh, c.toks)
			for pos := range c.toks {
				for _, g := range []struct {
					path      string
					got, want []float32
				}{{"prefill", pre, pre32}, {"decode", dec, dec32}} {
					e := relErr(g.got[pos*V:(pos+1)*V], g.want[pos*V:(pos+1)*V])
					worst[d] = max(worst[d], e)
					if e > P*u || math.IsNaN(e) {
						t.Errorf("%s %v %s position %d: logits' relative error %.3g > %.0f·u = %.3g", c.name, d, g.path, pos, e, P, P*u)
					}
				}
			}
			t.Logf("%s %v: worst relative logit error %.3g (tolerance %.3g)", c.name, d, worst[d], P*u)
		}
		if worst[tensor.BF16] == 0 || worst[tensor.F16] == 0 || worst[tensor.BF16] <= worst[tensor.F16] {
			t.Errorf("%s: errors bf16 %.3g, f16 %.3g: want 0 < f16 < bf16", c.name, worst[tensor.BF16], worst[tensor.F16])
		}
		if worst[tensor.BF16Dot] <= worst[tensor.BF16] { // the prefill's activations were rounded too
			t.Errorf("%s: errors bf16dot %.3g, bf16 %.3g: want bf16 < bf16dot", c.name, worst[tensor.BF16Dot], worst[tensor.BF16])
		}
	}
}
