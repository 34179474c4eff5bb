package telemetry

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
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

// TestHeadProbeMatchesPrometheus: over calls of varied shapes, lengths and
// values (bucket edges, zero, tiny and huge values, NaN and Inf, rows that
// attend to nothing, padding), the probe's entropy and norm histograms
// expose exactly what HistogramVecs fed by the probe's documented rules
// expose: entropy of every real, attending row of a sampled sequence,
// OutNorm/√rows of a sampled sequence without padding, non-finite values
// dropped.
func TestHeadProbeMatchesPrometheus(t *testing.T) {
	const layers, heads = 3, 4
	m := New(prometheus.NewRegistry(), "test")
	p := m.NewHeadProbe("m", "v1", layers, heads)
	labels := []string{"model", "version", "layer", "head"}
	ent := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "headlight_attention_entropy_nats", Help: "x", Buckets: entropyBuckets}, labels)
	norm := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "headlight_attention_output_norm", Help: "x", Buckets: normBuckets}, labels)
	for l := range layers {
		for h := range heads {
			ent.WithLabelValues("m", "v1", itoa(l), itoa(h))
			norm.WithLabelValues("m", "v1", itoa(l), itoa(h))
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	value := func(buckets []float64) float32 {
		switch rng.IntN(10) {
		case 0:
			return float32(buckets[rng.IntN(len(buckets))]) // an edge (as float32, as the kernel gives)
		case 1:
			return []float32{0, 1e-30, 1e-9, 3e38, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -1}[rng.IntN(8)]
		default:
			return float32(math.Exp2(rng.Float64()*20 - 10))
		}
	}
	for range 300 {
		batch, seqQ := 1+rng.IntN(3), rng.IntN(2)*(1+rng.IntN(5))+1 // decode (1) or prefill (1..6)
		st := stats(batch, heads, seqQ, 0, 0)
		lens, sampled := make([]int, batch), make([]bool, batch)
		for b := range batch {
			lens[b], sampled[b] = rng.IntN(seqQ+1), rng.IntN(4) != 0
			if rng.IntN(2) == 0 {
				lens[b] = seqQ
			}
		}
		for i := range st.Entropy {
			st.Entropy[i], st.Attended[i] = value(entropyBuckets), int32(rng.IntN(5))-1
		}
		for i := range st.OutNorm {
			st.OutNorm[i] = value(normBuckets)
		}
		layer := rng.IntN(layers)
		p.Begin(batch, lens, sampled)
		p.ObserveAttention(layer, st)
		for b := range batch {
			if !sampled[b] || lens[b] == 0 {
				continue
			}
			for h := range heads {
				obs := func(vec *prometheus.HistogramVec, v float64) {
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						vec.WithLabelValues("m", "v1", itoa(layer), itoa(h)).Observe(v)
					}
				}
				for i := range lens[b] {
					if r := (b*heads+h)*seqQ + i; st.Attended[r] > 0 {
						obs(ent, float64(st.Entropy[r]))
					}
				}
				if lens[b] == seqQ {
					obs(norm, float64(st.OutNorm[b*heads+h])/math.Sqrt(float64(seqQ)))
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		ours prometheus.Collector
		ref  *prometheus.HistogramVec
	}{{"headlight_attention_entropy_nats", m.headEntropy, ent}, {"headlight_attention_output_norm", m.headOutNorm, norm}} {
		want, err := testutil.CollectAndFormat(c.ref, expfmt.TypeTextPlain, c.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := testutil.CollectAndFormat(c.ours, expfmt.TypeTextPlain, c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := dropHelp(got), dropHelp(want); got != want {
			t.Errorf("%s differs\n--- ours\n%s\n--- prometheus\n%s", c.name, got, want)
		}
	}
}

// dropHelp is an exposition without its # HELP lines.
func dropHelp(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "# HELP ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
