package attention

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTiledMatchesReference runs random calls (every option, ragged batches,
// f16/bf16 K/V) at head dimensions of the tiled path against the float64
// reference, with statistics, on 1 and 3 threads (same bits).
func TestTiledMatchesReference(t *testing.T) {
	e1, e3 := newTestEngine(1), newTestEngine(3)
	n := 60
	if testing.Short() {
		n = 15
	}
	for seed := range uint64(n) {
		c := seededCall(seed)
		rng := rand.New(rand.NewPCG(seed, 11))
		d := []int{16, 32, 48, 64}[seed%4]
		sh := &c.sh
		sh.HeadDim = d
		sh.SeqQ = 1 + rng.IntN(150)
		if c.o.Mask != nil || c.o.Bias != nil || c.o.QOffset > sh.SeqK-sh.SeqQ || c.o.QOffsets != nil {
			// keep the per-(query, key) tables and offsets valid for the new SeqQ
			c.o.Mask, c.o.Bias, c.o.QOffsets, c.o.KeyLens = nil, nil, nil, nil
			c.o.QOffset = 0
		}
		c.q = randn(rng, sh.Batch*sh.SeqQ*sh.Heads*d, 1)
		c.k = randn(rng, sh.Batch*sh.SeqK*sh.KVHeads*d, 1)
		c.v = randn(rng, sh.Batch*sh.SeqK*sh.KVHeads*d, 1)
		var st1, st3 Stats
		got := c.fused(t, e1, &st1)
		got3 := c.fused(t, e3, &st3)
		want, _ := c.reference(t)
		if dd := maxAbsDiff(got, want); dd > 1e-4 {
			t.Fatalf("seed %d: max abs error %.3g for %+v %+v", seed, dd, c.sh, *c.o)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(got3[i]) {
				t.Fatalf("seed %d: output %d differs between 1 and 3 threads", seed, i)
			}
		}
		for i := range st1.Entropy {
			if st1.Entropy[i] != st3.Entropy[i] || st1.Attended[i] != st3.Attended[i] || st1.MaxWeight[i] != st3.MaxWeight[i] {
				t.Fatalf("seed %d: statistics of row %d differ between 1 and 3 threads", seed, i)
			}
		}
	}
}

// TestTiledMaskedInfValue: a masked key whose value row is ±Inf/NaN must not
// reach any row (0·Inf), on the tiled path too. Rows that meet such a value
// in their key tile are redone row by row (itemRows), whose summation order
// differs, so they may move in the last bits, never more.
func TestTiledMaskedInfValue(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(5, 6))
	const d, s = 64, 150
	sh := Shape{Batch: 1, Heads: 2, KVHeads: 1, HeadDim: d, SeqQ: s, SeqK: s}
	c := &call{sh: sh, o: &Options{Causal: true}, q: randn(rng, s*2*d, 1), k: randn(rng, s*d, 1), v: randn(rng, s*d, 1)}
	before := c.fused(t, e, nil)
	const j = 100 // rows < 100 must not see key 100
	c2 := *c
	c2.v = append([]float32(nil), c.v...)
	for x := range d {
		c2.v[j*d+x] = []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}[x%3]
	}
	var st Stats
	after := c2.fused(t, e, &st)
	for i := 0; i < s; i++ {
		for h := 0; h < 2; h++ {
			row := (i*2 + h) * d
			for x := 0; x < d; x++ {
				a, b := before[row+x], after[row+x]
				if i < j && math.Abs(float64(a-b)) > 1e-6*(1+math.Abs(float64(a))) {
					t.Fatalf("row %d head %d: masked Inf/NaN value leaked: %v → %v", i, h, a, b)
				}
			}
		}
	}
	if hasNaN(after[:j*2*d]) {
		t.Fatal("NaN in rows that cannot see the key")
	}
	if !hasNaN(after[j*2*d:]) {
		t.Fatal("rows that see the Inf/NaN value stayed finite: the test cannot fail")
	}
}
