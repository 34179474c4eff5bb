package serve

import (
	"sync"

	"github.com/headlight/headlight/internal/model"
	"github.com/prometheus/client_golang/prometheus"
)

// WeightBytes is the memory a model's weights hold. A Decoder that knows
// exactly may implement interface{ WeightBytes() int64 }; otherwise it is
// estimated from the configuration as float32 with an untied classifier (an
// over-estimate for tied or half-precision weights).
func WeightBytes(m model.Decoder) int64 {
	if w, ok := m.(interface{ WeightBytes() int64 }); ok {
		return w.WeightBytes()
	}
	c := m.Config()
	d, hd, kvd := int64(c.Dim), int64(c.HiddenDim), int64(c.KVHeads*c.HeadDim)
	qd := int64(c.Heads * c.HeadDim)
	perLayer := 2*d + qd*d + 2*kvd*d + d*qd + 3*d*hd // norms, Wq, Wk+Wv, Wo, W1-3
	params := 2*int64(c.VocabSize)*d + int64(c.Layers)*perLayer + d
	return 4 * params
}

// KVBytes is the KV cache of a batch of batch sequences with room for
// positions each, stored as float32: layers·2·kvHeads·headDim·positions·4
// per sequence.
func KVBytes(c model.Config, batch, positions int) int64 {
	return int64(c.Layers) * 2 * int64(c.KVHeads*c.HeadDim) * int64(positions) * 4 * int64(batch)
}

// ActivationBytes estimates the transient memory of one forward pass over
// batch × seq tokens: the residual stream and its scratch (x, h, f, the
// attention output and its projection), the FFN's gate and up, Q/K/V, the
// per-row statistics and the logits of the last positions.
func ActivationBytes(c model.Config, batch, seq int) int64 {
	n := int64(batch) * int64(seq)
	perTok := int64(5*c.Dim+2*c.HiddenDim+(c.Heads+2*c.KVHeads)*c.HeadDim) * 4
	stats := int64(c.Heads) * 12 // entropy, max weight, attended per row
	return n*(perTok+stats) + int64(batch)*int64(c.VocabSize)*4
}

// BatchBytes is the admission estimate of a batch: its KV cache (one spare
// row per sequence, as the scheduler allocates) plus prefill activations.
// capacity is the longest prompt + max tokens in the batch, prefill the
// longest prompt.
func BatchBytes(c model.Config, batch, capacity, prefill int) int64 {
	return KVBytes(c, batch, capacity+1) + ActivationBytes(c, batch, prefill)
}

// budget is the memory budget shared by every model's scheduler: weights
// are reserved once at start, each running batch reserves its estimate and
// releases it when done.
type budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	weights int64
	changed chan struct{} // closed and replaced on every release
	gauge   prometheus.Gauge
}

func newBudget(limit int64, gauge prometheus.Gauge) *budget {
	return &budget{limit: limit, changed: make(chan struct{}), gauge: gauge}
}

// fixed reserves bytes for good (weights); it reports whether they fit.
func (b *budget) fixed(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used += n
	b.weights += n
	b.gauge.Set(float64(b.used))
	return b.used <= b.limit
}

// headroom is what a batch may take with no other batch running: the
// limit less the weights. A request whose batch of one exceeds it can
// never run.
func (b *budget) headroom() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit - b.weights
}

// tryReserve takes n bytes if they fit and returns true, else returns a
// channel closed at the next release.
func (b *budget) tryReserve(n int64) (bool, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false, b.changed
	}
	b.used += n
	b.gauge.Set(float64(b.used))
	return true, nil
}

// release returns n bytes and wakes waiters.
func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.gauge.Set(float64(b.used))
	close(b.changed)
	b.changed = make(chan struct{})
}
