package telemetry

import (
	"math"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// stats is a Stats of batch × heads × seq rows, every row attending to 2
// keys with entropy e and every head's output norm n.
func stats(batch, heads, seq int, e, n float32) *attention.Stats {
	st := &attention.Stats{Batch: batch, Heads: heads, SeqQ: seq,
		Entropy: make([]float32, batch*heads*seq), MaxWeight: make([]float32, batch*heads*seq), Attended: make([]int32, batch*heads*seq),
		OutNorm: make([]float32, batch*heads), ScoreNaN: make([]int64, batch*heads), ScoreInf: make([]int64, batch*heads),
		OutNaN: make([]int64, batch*heads), OutInf: make([]int64, batch*heads)}
	for i := range st.Entropy {
		st.Entropy[i], st.MaxWeight[i], st.Attended[i] = e, 0.5, 2
	}
	for i := range st.OutNorm {
		st.OutNorm[i] = n
	}
	return st
}

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestHeadProbe: entropy is recorded once per real, attending query row of
// sampled sequences; the output norm per query only for unpadded rows;
// NaN/Inf always, with the first (layer, head) of each sequence.
func TestHeadProbe(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, "test")
	p := m.NewHeadProbe("m", "v1", 2, 3)
	// Batch of 3 padded to seq 4: lengths 4, 2, 0; sequence 1 not sampled.
	p.Begin(3, []int{4, 2, 0}, []bool{true, false, true})
	st := stats(3, 3, 4, 1.25, 8)
	st.Attended[0*3*4+1*4+3] = 0 // sequence 0, head 1, query 3: no key
	st.ScoreNaN[1*3+2] = 2       // sequence 1, head 2
	st.OutInf[2*3+0] = 5         // sequence 2 sits out: ignored
	p.ObserveAttention(1, st)
	p.ObserveAttention(0, stats(3, 3, 4, 0.5, 2))

	if c, s := p.entropy.snapshot(1, 0); c != 4 || s != 4*1.25 {
		t.Errorf("layer 1 head 0 entropy: %d observations summing to %v, want 4 × 1.25", c, s)
	}
	if c, _ := p.entropy.snapshot(1, 1); c != 3 {
		t.Errorf("layer 1 head 1: %d entropy observations, want 3 (one row attends to nothing)", c)
	}
	if c, s := p.norm.snapshot(1, 2); c != 1 || math.Abs(s-8/2) > 1e-9 {
		t.Errorf("layer 1 head 2 norm: %d observations, sum %v; want one of 8/√4", c, s)
	}
	if c, _ := p.entropy.snapshot(0, 2); c != 4 {
		t.Errorf("layer 0 head 2: %d entropy observations, want 4", c)
	}
	if got := counter(t, p.nan[1][2]); got != 2 {
		t.Errorf("NaN counter layer 1 head 2: %v", got)
	}
	if got := counter(t, p.inf[1][0]); got != 0 {
		t.Errorf("Inf of a sequence sitting out counted: %v", got)
	}
	if b := p.NonFinite(1); b.Count != 2 || b.Layer != 1 || b.Head != 2 {
		t.Errorf("sequence 1: %+v", b)
	}
	if b := p.NonFinite(0); b.Count != 0 {
		t.Errorf("sequence 0: %+v", b)
	}
	p.Begin(1, nil, nil)
	if b := p.NonFinite(1); b.Count != 0 {
		t.Errorf("Begin did not reset: %+v", b)
	}
	// A second registry gets its own metrics: no global state.
	New(prometheus.NewRegistry(), "test")
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

type countProbe struct{ n int }

func (c *countProbe) ObserveAttention(int, *attention.Stats) { c.n++ }

func TestTee(t *testing.T) {
	a, b := &countProbe{}, &countProbe{}
	Tee{a, b}.ObserveAttention(0, stats(1, 1, 1, 0, 0))
	if a.n != 1 || b.n != 1 {
		t.Errorf("tee reached %d and %d probes", a.n, b.n)
	}
}
