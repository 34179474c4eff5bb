package attention

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/headlight/headlight/internal/tensor"
)

// TestFusedMatchesReference compares the fused kernel with the explicit
// float64 path on many random shapes and mask mixes.
func TestFusedMatchesReference(t *testing.T) {
	e := newTestEngine(2)
	n := 300
	if testing.Short() {
		n = 60
	}
	for seed := range uint64(n) {
		c := seededCall(seed)
		got := c.fused(t, e, nil)
		want, _ := c.reference(t)
		if d := maxAbsDiff(got, want); d > 1e-4 {
			t.Fatalf("seed %d: max abs error %.3g for %+v %+v", seed, d, c.sh, *c.o)
		}
	}
}

// leakCase builds a call whose forbidden (query, key) pairs are known, then
// changes the forbidden keys' K and V rows and checks that no output row that
// must not see them moves — and that rows allowed to see them do move, so the
// test can fail.
func TestMaskingLeak(t *testing.T) {
	e := newTestEngine(2)
	sh := Shape{Batch: 2, Heads: 4, KVHeads: 2, HeadDim: 8, SeqQ: 77, SeqK: 77}
	cases := []struct {
		name string
		o    *Options
		// sees(b, i, j) is the rule being tested.
		sees func(b, i, j int) bool
	}{
		{"causal", &Options{Causal: true}, func(_, i, j int) bool { return j <= i }},
		{"padding", &Options{KeyPadding: padLens(2, 77, []int{77, 40})}, func(b, _, j int) bool { return b == 0 || j < 40 }},
		{"window", &Options{Window: &Window{Left: 5, Right: 3}}, func(_, i, j int) bool { return i-j <= 5 && j-i <= 3 }},
		{"sliding causal", &Options{Causal: true, Window: &Window{Left: 9, Right: 0}}, func(_, i, j int) bool { return j <= i && i-j <= 9 }},
		{"global+local", &Options{Window: &Window{Left: 2, Right: 2}, Global: []int{0, 50}}, func(_, i, j int) bool {
			return (i-j <= 2 && j-i <= 2) || i == 0 || i == 50 || j == 0 || j == 50
		}},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{sh: sh, o: tc.o, q: randn(rng, 2*77*32, 1), k: randn(rng, 2*77*16, 1), v: randn(rng, 2*77*16, 1)}
			before := c.fused(t, e, nil)
			for j := 0; j < 77; j += 7 { // poke key j in every batch
				k2, v2 := slices.Clone(c.k), slices.Clone(c.v)
				for b := 0; b < 2; b++ {
					for x := range 16 {
						k2[(b*77+j)*16+x] += 3
						v2[(b*77+j)*16+x] -= 5
					}
				}
				c2 := *c
				c2.k, c2.v = k2, v2
				after := c2.fused(t, e, nil)
				moved, stayed := 0, 0
				for b := 0; b < 2; b++ {
					for i := 0; i < 77; i++ {
						row := func(x []float32) []float32 { return x[(b*77+i)*32 : (b*77+i+1)*32] }
						same := slices.Equal(row(before), row(after))
						if tc.sees(b, i, j) {
							if !same {
								moved++
							}
						} else {
							if !same {
								t.Fatalf("leak: query %d of batch %d changed when forbidden key %d changed", i, b, j)
							}
							stayed++
						}
					}
				}
				if moved == 0 && stayed < 2*77 {
					t.Fatalf("key %d: no allowed query reacted: the test would not see a leak", j)
				}
			}
		})
	}
}

func padLens(batch, seq int, lens []int) []bool {
	p := make([]bool, batch*seq)
	for b, n := range lens {
		for j := n; j < seq; j++ {
			p[b*seq+j] = true
		}
	}
	return p
}

// TestPermutationEquivariance: without positions or masks, permuting the
// queries permutes the outputs, and permuting keys with their values changes
// nothing (up to summation order).
func TestPermutationEquivariance(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(5, 6))
	sh := Shape{Batch: 1, Heads: 3, HeadDim: 16, SeqQ: 45, SeqK: 70}
	w := 3 * 16
	c := &call{sh: sh, o: &Options{}, q: randn(rng, 45*w, 1), k: randn(rng, 70*w, 1), v: randn(rng, 70*w, 1)}
	base := c.fused(t, e, nil)
	perm := func(x []float32, p []int) []float32 {
		y := make([]float32, len(x))
		for to, from := range p {
			copy(y[to*w:(to+1)*w], x[from*w:(from+1)*w])
		}
		return y
	}
	pq, pk := rng.Perm(45), rng.Perm(70)
	cq := *c
	cq.q = perm(c.q, pq)
	checkClose(t, "permuted queries", cq.fused(t, e, nil), perm(base, pq), 0)
	ck := *c
	ck.k, ck.v = perm(c.k, pk), perm(c.v, pk)
	checkClose(t, "permuted keys", ck.fused(t, e, nil), base, 1e-5)
}

// TestKVCacheDecodeEqualsFull: prefill then token-by-token decoding through
// the cache gives the same outputs as one causal forward over the whole
// sequence (GQA + RoPE, as Llama runs it).
func TestKVCacheDecodeEqualsFull(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(7, 8))
	const B, S, E, H, KV, D = 2, 40, 32, 4, 2, 8
	rope, _ := NewRoPE(RoPEInterleaved, D, 10000)
	m := &MHA{DModel: E, Heads: H, KVHeads: KV, HeadDim: D, RoPE: rope,
		Wq: randn(rng, H*D*E, 0.2), Wk: randn(rng, KV*D*E, 0.2), Wv: randn(rng, KV*D*E, 0.2), Wo: randn(rng, E*H*D, 0.2)}
	x := randn(rng, B*S*E, 1)
	full, err := m.Forward(e, &Input{X: x, Batch: B, SeqQ: S, Opts: Options{Causal: true}})
	if err != nil {
		t.Fatal(err)
	}
	cache := NewKVCache(tensor.F32, B, KV, D, 64)
	rows := func(x []float32, from, to int) []float32 { // (B, to-from, E) slice of (B, S, E)
		var out []float32
		for b := 0; b < B; b++ {
			out = append(out, x[(b*S+from)*E:(b*S+to)*E]...)
		}
		return out
	}
	steps := [][2]int{{0, 13}}
	for p := 13; p < S; p++ {
		steps = append(steps, [2]int{p, p + 1})
	}
	for _, s := range steps {
		got, err := m.Forward(e, &Input{X: rows(x, s[0], s[1]), Batch: B, SeqQ: s[1] - s[0], Cache: cache, Opts: Options{Causal: true}})
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "decode step", got, rows(full, s[0], s[1]), 1e-5)
	}
	if cache.MaxLen() != S {
		t.Fatalf("cache holds %d positions, want %d", cache.MaxLen(), S)
	}
	if _, err := m.Forward(e, &Input{X: rows(x, 0, 30), Batch: B, SeqQ: 30, Cache: cache, Opts: Options{Causal: true}}); err == nil {
		t.Fatal("overfilling the cache did not fail")
	}
}

// TestEntropyExtremes: a uniform row has entropy log n and max weight 1/n;
// a one-hot row has entropy 0 and max weight 1.
func TestEntropyExtremes(t *testing.T) {
	e := newTestEngine(1)
	const n = 150
	sh := Shape{Batch: 1, Heads: 2, HeadDim: 4, SeqQ: 1, SeqK: n}
	q := []float32{0, 0, 0, 0, 1, 0, 0, 0} // head 0: q = 0 → uniform; head 1: picks key 77
	k := make([]float32, n*8)
	for j := 0; j < n; j++ {
		k[j*8] = 1 // head 0 keys (irrelevant, q = 0)
	}
	k[77*8+4] = 1e4 // head 1: one key with a huge logit
	v := randn(rand.New(rand.NewPCG(1, 1)), n*8, 1)
	var st Stats
	c := &call{sh: sh, o: &Options{}, q: q, k: k, v: v}
	out := c.fused(t, e, &st)
	if d := math.Abs(float64(st.Entropy[0]) - math.Log(n)); d > 1e-5 {
		t.Errorf("uniform row: entropy %v, want log %d = %v", st.Entropy[0], n, math.Log(n))
	}
	if d := math.Abs(float64(st.MaxWeight[0]) - 1.0/n); d > 1e-7 {
		t.Errorf("uniform row: max weight %v, want %v", st.MaxWeight[0], 1.0/n)
	}
	if st.Entropy[1] != 0 || st.MaxWeight[1] != 1 {
		t.Errorf("one-hot row: entropy %v, max weight %v, want 0 and 1", st.Entropy[1], st.MaxWeight[1])
	}
	if !slices.Equal(out[4:8], v[77*8+4:77*8+8]) {
		t.Errorf("one-hot row output %v, want value row 77 %v", out[4:8], v[77*8+4:77*8+8])
	}
	if st.Attended[0] != n || st.Attended[1] != n {
		t.Errorf("attended %v, want %d", st.Attended, n)
	}
}

// TestFullyMaskedRows: a query that may see no key gives zeros, no NaN and
// zero statistics.
func TestFullyMaskedRows(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(9, 9))
	sh := Shape{Batch: 2, Heads: 2, HeadDim: 8, SeqQ: 5, SeqK: 70}
	pad := padLens(2, 70, []int{70, 0}) // batch 1: every key padded
	mask := &BoolMask{Batch: 1, Heads: 1, Data: make([]bool, 5*70)}
	for j := range 70 {
		mask.Data[2*70+j] = true // query 2: every key masked
	}
	neg := float32(math.Inf(-1))
	bias := &Bias{Batch: 1, Heads: 1, Data: make([]float32, 5*70)}
	for j := range 70 {
		bias.Data[4*70+j] = neg // query 4: every key at -Inf
	}
	c := &call{sh: sh, o: &Options{KeyPadding: pad, Mask: mask, Bias: bias}, q: randn(rng, 2*5*16, 1), k: randn(rng, 2*70*16, 1), v: randn(rng, 2*70*16, 1)}
	var st Stats
	out := c.fused(t, e, &st)
	if hasNaN(out) || st.NonFinite() != 0 {
		t.Fatalf("NaN from fully masked rows: %v", st)
	}
	for b := 0; b < 2; b++ {
		for i := 0; i < 5; i++ {
			row := out[(b*5+i)*16 : (b*5+i+1)*16]
			empty := b == 1 || i == 2 || i == 4
			allZero := !slices.ContainsFunc(row, func(x float32) bool { return x != 0 })
			if empty != allZero {
				t.Errorf("batch %d query %d: empty=%v but output %v", b, i, empty, row)
			}
			for h := 0; h < 2; h++ {
				ri := (b*2+h)*5 + i
				if empty && (st.Entropy[ri] != 0 || st.MaxWeight[ri] != 0 || st.Attended[ri] != 0) {
					t.Errorf("empty row stats not zero: %v %v %v", st.Entropy[ri], st.MaxWeight[ri], st.Attended[ri])
				}
			}
		}
	}
}

// TestExtremeValues: logits of ±1e4 and inputs of 1e3 stay finite.
func TestExtremeValues(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(11, 12))
	sh := Shape{Batch: 1, Heads: 2, HeadDim: 16, SeqQ: 40, SeqK: 100}
	for _, tc := range []struct {
		name       string
		qk, v      float32
		scale      float32
		wantLogits float64
	}{
		{"logits 1e4", 50, 1, 0.3, 1e4},
		{"inputs 1e3", 1e3, 1e3, 1e-5, 0},
	} {
		c := &call{sh: sh, o: &Options{Scale: tc.scale, Causal: true}, q: randn(rng, 40*32, tc.qk), k: randn(rng, 100*32, tc.qk), v: randn(rng, 100*32, tc.v)}
		var st Stats
		got := c.fused(t, e, &st)
		if hasNaN(got) || st.NonFinite() != 0 {
			t.Fatalf("%s: non-finite output", tc.name)
		}
		want, _ := c.reference(t)
		checkClose(t, tc.name, got, want, outTol(want))
		if tc.wantLogits > 0 {
			var mx float64
			for i := range 40 {
				for j := range 100 {
					var d float64
					for x := range 16 {
						d += float64(c.q[i*32+x]) * float64(c.k[j*32+x])
					}
					mx = math.Max(mx, math.Abs(d*float64(tc.scale)))
				}
			}
			if mx < tc.wantLogits {
				t.Fatalf("%s: largest |logit| %.3g, the case does not test what it says", tc.name, mx)
			}
		}
	}
}

// TestDeterministic: outputs and statistics are bit-identical across runs
// and thread counts.
func TestDeterministic(t *testing.T) {
	c := seededCall(42)
	c.sh = Shape{Batch: 2, Heads: 6, KVHeads: 2, HeadDim: 16, SeqQ: 130, SeqK: 130}
	c.o = &Options{Causal: true, ALiBi: ALiBiSlopes(6)}
	rng := rand.New(rand.NewPCG(1, 2))
	c.q, c.k, c.v = randn(rng, 2*130*96, 1), randn(rng, 2*130*32, 1), randn(rng, 2*130*32, 1)
	var want []float32
	var wantSt Stats
	for _, threads := range []int{1, 2, 3, 4, 7} {
		e := newTestEngine(threads)
		for range 2 {
			var st Stats
			got := c.fused(t, e, &st)
			if want == nil {
				want, wantSt = got, st
				continue
			}
			if !slices.Equal(got, want) || !slices.Equal(st.Entropy, wantSt.Entropy) || !slices.Equal(st.OutNorm, wantSt.OutNorm) {
				t.Fatalf("%d threads: result differs", threads)
			}
		}
	}
}

// TestNaNCounting: a NaN in one query row is counted for its (batch, head)
// only, and the other heads keep their exact results.
func TestNaNCounting(t *testing.T) {
	e := newTestEngine(2)
	rng := rand.New(rand.NewPCG(13, 14))
	sh := Shape{Batch: 2, Heads: 3, HeadDim: 8, SeqQ: 10, SeqK: 90}
	c := &call{sh: sh, o: &Options{}, q: randn(rng, 2*10*24, 1), k: randn(rng, 2*90*24, 1), v: randn(rng, 2*90*24, 1)}
	clean := c.fused(t, e, nil)
	c.q[(1*10+4)*24+8+3] = float32(math.NaN()) // batch 1, query 4, head 1
	c.k[(0*90+7)*24+16] = float32(math.Inf(1)) // batch 0, key 7, head 2
	var st Stats
	got := c.fused(t, e, &st)
	hb := func(b, h int) int { return b*3 + h }
	if st.ScoreNaN[hb(1, 1)] != 90 {
		t.Errorf("NaN logits of (1,1): %d, want 90 (one query row × 90 keys)", st.ScoreNaN[hb(1, 1)])
	}
	if st.OutNaN[hb(1, 1)] != 8 {
		t.Errorf("NaN outputs of (1,1): %d, want 8", st.OutNaN[hb(1, 1)])
	}
	if st.ScoreInf[hb(0, 2)]+st.ScoreNaN[hb(0, 2)] != 10 {
		t.Errorf("(0,2) non-finite logits: inf %d nan %d, want 10 in all (key 7 × 10 queries)", st.ScoreInf[hb(0, 2)], st.ScoreNaN[hb(0, 2)])
	}
	for b := 0; b < 2; b++ {
		for h := 0; h < 3; h++ {
			if (b == 1 && h == 1) || (b == 0 && h == 2) {
				continue
			}
			if st.ScoreNaN[hb(b, h)]+st.ScoreInf[hb(b, h)]+st.OutNaN[hb(b, h)]+st.OutInf[hb(b, h)] != 0 {
				t.Errorf("(%d,%d) counted NaN/Inf it does not have", b, h)
			}
			for i := 0; i < 10; i++ {
				off := (b*10+i)*24 + h*8
				if !slices.Equal(got[off:off+8], clean[off:off+8]) {
					t.Errorf("(%d,%d) query %d changed", b, h, i)
				}
			}
		}
	}
}

// TestHeadMask: switched-off heads give zeros; the others are unchanged.
func TestHeadMask(t *testing.T) {
	e := newTestEngine(2)
	c := seededCall(3)
	c.o = &Options{Causal: true}
	all := c.fused(t, e, nil)
	c.o.HeadMask = make([]bool, c.sh.Heads)
	c.o.HeadMask[0] = true
	some := c.fused(t, e, nil)
	d := c.sh.HeadDim
	for r := 0; r < c.sh.Batch*c.sh.SeqQ; r++ {
		for h := 0; h < c.sh.Heads; h++ {
			off := (r*c.sh.Heads + h) * d
			want := all[off : off+d]
			if h != 0 {
				want = make([]float32, d)
			}
			if !slices.Equal(some[off:off+d], want) {
				t.Fatalf("row %d head %d: %v, want %v", r, h, some[off:off+d], want)
			}
		}
	}
}

// TestMapsMatchReference: the maps of chosen heads are the reference weights.
func TestMapsMatchReference(t *testing.T) {
	c := seededCall(8)
	k, v := c.stores()
	_, w := c.reference(t)
	sel := []HeadRef{{c.sh.Batch - 1, c.sh.Heads - 1}, {0, 0}}
	maps, err := Maps(c.sh, c.o, c.q, k, v, sel)
	if err != nil {
		t.Fatal(err)
	}
	n := c.sh.SeqQ * c.sh.SeqK
	for i, hr := range sel {
		off := (hr.Batch*c.sh.Heads + hr.Head) * n
		checkClose(t, "map", maps[i], w[off:off+n], 0)
	}
	if _, err := Maps(c.sh, c.o, c.q, k, v, []HeadRef{{0, c.sh.Heads}}); !errors.Is(err, ErrShape) {
		t.Fatalf("map of a head that does not exist: %v", err)
	}
}

// TestShapeErrors: bad sizes and masks are errors naming the problem.
func TestShapeErrors(t *testing.T) {
	e := newTestEngine(1)
	sh := Shape{Batch: 1, Heads: 4, KVHeads: 2, HeadDim: 4, SeqQ: 3, SeqK: 5}
	q := make([]float32, 3*16)
	kv := tensor.FromF32(make([]float32, 5*8))
	out := make([]float32, 3*16)
	bad := []struct {
		name string
		sh   Shape
		o    *Options
		q    []float32
	}{
		{"kv heads do not divide", Shape{Batch: 1, Heads: 4, KVHeads: 3, HeadDim: 4, SeqQ: 3, SeqK: 5}, nil, q},
		{"short q", sh, nil, q[:5]},
		{"zero heads", Shape{Batch: 1, HeadDim: 4, SeqQ: 3, SeqK: 5}, nil, q},
		{"padding length", sh, &Options{KeyPadding: make([]bool, 4)}, q},
		{"mask batch", sh, &Options{Mask: &BoolMask{Batch: 2, Heads: 1, Data: make([]bool, 2*15)}}, q},
		{"mask size", sh, &Options{Mask: &BoolMask{Batch: 1, Heads: 4, Data: make([]bool, 15)}}, q},
		{"bias size", sh, &Options{Bias: &Bias{Batch: 1, Heads: 1, Data: make([]float32, 14)}}, q},
		{"alibi slopes", sh, &Options{ALiBi: make([]float32, 3)}, q},
		{"head mask", sh, &Options{HeadMask: make([]bool, 2)}, q},
		{"window", sh, &Options{Window: &Window{Left: -2}}, q},
		{"scale NaN", sh, &Options{Scale: float32(math.NaN())}, q},
		{"negative offset", sh, &Options{QOffset: -1}, q},
	}
	for _, b := range bad {
		if err := e.Attend(b.sh, b.o, b.q, kv, kv, out, nil); !errors.Is(err, ErrShape) {
			t.Errorf("%s: got %v, want ErrShape", b.name, err)
		}
	}
	if err := e.Attend(sh, nil, q, kv, kv, out, nil); err != nil {
		t.Fatalf("valid call failed: %v", err)
	}
}
