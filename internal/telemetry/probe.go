package telemetry

import (
	"math"
	"strconv"
	"sync"

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
	mu            sync.Mutex             // guards entropy and norm, shared with their scrapes
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
	p := &HeadProbe{layers: layers, heads: heads}
	p.entropy, p.norm = m.headEntropy.block(model, version, layers, heads, &p.mu), m.headOutNorm.block(model, version, layers, heads, &p.mu)
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
//
// It runs once per layer of every forward pass, so its common case is kept
// short: one scan for non-finite counts (Stats.NonFinite, almost always none), and the
// histogram lock taken only when a sequence is sampled, without defer: the
// slice lengths are checked before locking, so nothing in between can panic.
func (p *HeadProbe) ObserveAttention(layer int, st *attention.Stats) {
	heads, seqQ := st.Heads, st.SeqQ
	if layer < 0 || layer >= p.layers || heads != p.heads || seqQ < 0 {
		return // not this model's shape: a programmer error upstream, never crash the server
	}
	batch := min(st.Batch, len(p.bad))
	if batch <= 0 {
		return
	}
	nbh := batch * heads
	if len(st.ScoreNaN) < nbh || len(st.ScoreInf) < nbh || len(st.OutNaN) < nbh || len(st.OutInf) < nbh {
		return
	}
	if st.NonFinite() != 0 {
		p.countNonFinite(layer, st, batch)
	}

	sampled := p.sampled[:min(batch, len(p.sampled))]
	locked := false
	for b, on := range sampled {
		if !on {
			continue
		}
		rows := p.rows(b, seqQ)
		if rows <= 0 {
			continue // sat this call out: its rows are meaningless
		}
		if !locked {
			if nr := nbh * seqQ; len(st.Entropy) < nr || len(st.Attended) < nr || len(st.OutNorm) < nbh {
				return
			}
			p.mu.Lock()
			locked = true
		}
		// Entropy of each real, attending query row; the output norm spans
		// all SeqQ rows, padding included: recorded only when every row is
		// real, as a per-query norm.
		r0, i0 := b*heads*seqQ, layer*heads
		p.entropy.addRows(i0, st.Entropy[r0:r0+heads*seqQ], st.Attended[r0:r0+heads*seqQ], seqQ, rows)
		if rows == seqQ {
			p.norm.addScaled(i0, st.OutNorm[b*heads:b*heads+heads], math.Sqrt(float64(rows)))
		}
	}
	if locked {
		p.mu.Unlock()
	}
}

// rows is the number of real query rows of sequence b in a call of seqQ.
func (p *HeadProbe) rows(b, seqQ int) int {
	if b < len(p.lens) {
		return min(p.lens[b], seqQ)
	}
	return seqQ
}

// countNonFinite adds the NaN and Inf counts of the call's sequences that
// took part in it to the counters and to their Bad.
func (p *HeadProbe) countNonFinite(layer int, st *attention.Stats, batch int) {
	for b := range batch {
		if p.rows(b, st.SeqQ) == 0 {
			continue // sat this call out: its counts are meaningless
		}
		for h := range st.Heads {
			bh := b*st.Heads + h
			nan, inf := st.ScoreNaN[bh]+st.OutNaN[bh], st.ScoreInf[bh]+st.OutInf[bh]
			if nan+inf <= 0 {
				continue
			}
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
