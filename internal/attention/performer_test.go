package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/headlight/headlight/internal/tensor"
)

// relErr is ‖got − want‖ / ‖want‖.
func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range got {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

// TestPerformerError measures FAVOR+ against exact softmax attention. The
// error of a random-feature estimate falls as 1/√m: each 4× more features
// must cut it by at least 0.7× (ideal 0.5×). The figures (logged, and quoted
// in docs/attention.md) are relative L2 errors of the whole output; outputs
// that average many values are small, so relative errors look large.
func TestPerformerError(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const D = 16
	sh := Shape{Batch: 2, Heads: 4, KVHeads: 2, HeadDim: D, SeqQ: 96, SeqK: 96}
	// Typical post-projection scale: |q|,|k| ≈ √D·0.5, logits of order 1.
	q := randn(rng, 2*96*4*D, 0.5)
	kf, vf := randn(rng, 2*96*2*D, 0.5), randn(rng, 2*96*2*D, 1)
	k, v := tensor.FromF32(kf), tensor.FromF32(vf)
	e := newTestEngine(2)
	for _, causal := range []bool{false, true} {
		o := &Options{Causal: causal, KeyPadding: padLens(2, 96, []int{96, 70})}
		exact := make([]float32, len(q))
		if err := e.Attend(sh, o, q, k, v, exact, nil); err != nil {
			t.Fatal(err)
		}
		var errs []float64
		for _, m := range []int{16, 64, 256, 1024} {
			var sum float64
			const seeds = 4
			for s := range uint64(seeds) {
				pf, err := NewPerformer(D, m, s)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]float32, len(q))
				if err := pf.Attend(sh, o, q, k, v, got); err != nil {
					t.Fatal(err)
				}
				sum += relErr(got, exact)
			}
			errs = append(errs, sum/seeds)
			t.Logf("causal=%v features=%4d: mean relative error %.4f", causal, m, sum/seeds)
		}
		for i := 1; i < len(errs); i++ {
			if errs[i] > 0.7*errs[i-1] {
				t.Errorf("causal=%v: 4× features cut the error only %.2f× (%v)", causal, errs[i]/errs[i-1], errs)
			}
		}
		if errs[len(errs)-1] > 0.1 {
			t.Errorf("causal=%v: relative error %.3f at 1024 features, want < 10%%", causal, errs[len(errs)-1])
		}
	}
}

func TestPerformerRejectsUnsupportedMasks(t *testing.T) {
	pf, _ := NewPerformer(4, 8, 1)
	sh := Shape{Batch: 1, Heads: 1, HeadDim: 4, SeqQ: 2, SeqK: 2}
	x := make([]float32, 8)
	s := tensor.FromF32(x)
	if err := pf.Attend(sh, &Options{Window: &Window{Left: 1, Right: 1}}, x, s, s, make([]float32, 8)); err == nil {
		t.Fatal("window accepted by Performer")
	}
	if err := pf.Attend(Shape{Batch: 1, Heads: 1, HeadDim: 2, SeqQ: 2, SeqK: 4}, nil, x[:4], s, s, make([]float32, 4)); err == nil {
		t.Fatal("wrong head dim accepted")
	}
}

// TestPerformerUnbiased: averaged over draws, φ(q)·φ(k) estimates
// exp(q·k/√d) — FAVOR+'s defining property, checked directly.
func TestPerformerUnbiased(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const D, m, draws = 8, 32, 400
	q, k := randn(rng, D, 0.6), randn(rng, D, 0.6)
	var qk float64
	for i := range q {
		qk += float64(q[i]) * float64(k[i])
	}
	want := math.Exp(qk / math.Sqrt(D))
	var mean float64
	lq, lk := make([]float64, m), make([]float64, m)
	for s := range uint64(draws) {
		pf, _ := NewPerformer(D, m, s)
		pf.logits(lq, q)
		pf.logits(lk, k)
		var est float64
		for r := range lq {
			est += math.Exp(lq[r]) * math.Exp(lk[r])
		}
		mean += est / m / draws
	}
	if d := math.Abs(mean/want - 1); d > 0.02 {
		t.Errorf("mean estimate %.5f, exact %.5f (%.1f%% off)", mean, want, 100*d)
	}
}
