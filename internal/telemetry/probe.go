package telemetry

import (
	"math"
	"strconv"

	"github.com/headlight/headlight/internal/attention"
	"github.com/prometheus/client_golang/prometheus"
)

// HeadProbe is the attention.Probe of one model: it turns the fused
// kernel's per-head statistics into the head metrics and remembers, per
// sequence of the current forward pass, whether any head produced a NaN or
// Inf (the NaN guard).
//
// A HeadProbe belongs to the one goroutine that runs its model's forward
// passes: Begin, ObserveAttention and NonFinite must not be called
// concurrently (the metrics it writes are safe to scrape at any time).
type HeadProbe struct {
	layers, heads int
	entropy, norm *headBlock             // (layer, head) histograms
	nan, inf      [][]prometheus.Counter // (layer, head)

	// State of the current forward pass (see Begin).
	lens    []int  // (batch) real query rows; nil: all
	sampled []bool // (batch) record entropy/norm; nil: none
	bad     []Bad  // (batch) first non-finite head and counts
}

// Bad describes the non-finite values one sequence met in a forward pass.
type Bad struct {
	Count       int64 // NaN + Inf logits and outputs over all layers and heads
	Layer, Head int   // the first (layer, head) that had one
}

// NewHeadProbe resolves the head series of model at version (layers × heads) and
// creates them at zero, so that every head's NaN counter exists from the
// start.
func (m *Metrics) NewHeadProbe(model, version string, layers, heads int) *HeadProbe {
	p := &HeadProbe{layers: layers, heads: heads,
		entropy: m.headEntropy.block(model, version, layers, heads), norm: m.headOutNorm.block(model, version, layers, heads)}
	for l := 0; l < layers; l++ {
		var nan, inf []prometheus.Counter
		ls := strconv.Itoa(l)
		for h := 0; h < heads; h++ {
			hs := strconv.Itoa(h)
			nan = append(nan, m.HeadNaN.WithLabelValues(model, version, ls, hs))
			inf = append(inf, m.HeadInf.WithLabelValues(model, version, ls, hs))
		}
		p.nan, p.inf = append(p.nan, nan), append(p.inf, inf)
	}
	return p
}

// Begin prepares for a forward pass of batch sequences: lens (batch) are
// the real query rows of each sequence in this call (nil: all rows; 0: the
// sequence sits the call out), sampled (batch) says which sequences'
// entropy and output norm are recorded (nil: none). NaN/Inf are always
// counted. The probe keeps both slices until the next Begin.
func (p *HeadProbe) Begin(batch int, lens []int, sampled []bool) {
	p.lens, p.sampled = lens, sampled
	if cap(p.bad) < batch {
		p.bad = make([]Bad, batch)
	}
	p.bad = p.bad[:batch]
	clear(p.bad)
}

// NonFinite reports what sequence b met since Begin.
func (p *HeadProbe) NonFinite(b int) Bad {
	if b < 0 || b >= len(p.bad) {
		return Bad{}
	}
	return p.bad[b]
}

// ObserveAttention implements attention.Probe.
func (p *HeadProbe) ObserveAttention(layer int, st *attention.Stats) {
	if layer < 0 || layer >= p.layers || st.Heads != p.heads {
		return // not this model's shape: a programmer error upstream, never crash the server
	}
	p.entropy.lock()
	defer p.entropy.unlock()
	p.norm.lock()
	defer p.norm.unlock()
	for b := 0; b < st.Batch && b < len(p.bad); b++ {
		rows := st.SeqQ
		if b < len(p.lens) {
			rows = min(p.lens[b], st.SeqQ)
		}
		if rows == 0 {
			continue // sat this call out: its rows are meaningless
		}
		for h := 0; h < st.Heads; h++ {
			bh := b*st.Heads + h
			nan, inf := st.ScoreNaN[bh]+st.OutNaN[bh], st.ScoreInf[bh]+st.OutInf[bh]
			if nan+inf > 0 {
				if nan > 0 {
					p.nan[layer][h].Add(float64(nan))
				}
				if inf > 0 {
					p.inf[layer][h].Add(float64(inf))
				}
				if p.bad[b].Count == 0 {
					p.bad[b].Layer, p.bad[b].Head = layer, h
				}
				p.bad[b].Count += nan + inf
			}
			if b >= len(p.sampled) || !p.sampled[b] {
				continue
			}
			for i := 0; i < rows; i++ {
				r := bh*st.SeqQ + i
				if st.Attended[r] > 0 {
					p.entropy.observe(layer, h, float64(st.Entropy[r]))
				}
			}
			// OutNorm spans all SeqQ rows, padding included: record it only
			// when every row is real, as a per-query norm.
			if rows == st.SeqQ {
				n := float64(st.OutNorm[bh]) / math.Sqrt(float64(rows))
				p.norm.observe(layer, h, n) // drops NaN and Inf
			}
		}
	}
}

// Tee is a probe that passes each observation to several probes in order.
type Tee []attention.Probe

// ObserveAttention implements attention.Probe.
func (t Tee) ObserveAttention(layer int, st *attention.Stats) {
	for _, p := range t {
		p.ObserveAttention(layer, st)
	}
}
