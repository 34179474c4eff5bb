package telemetry

import (
	"math"
	"sort"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// headHistograms is a histogram metric with one series per (model,
// version, layer, head), made for the probe's hot path: a forward pass
// observes one value per query row of every head, thousands per prefill.
// A prometheus.Histogram pays atomic additions for each observation;
// here each model's probe owns a block of plain counters that it updates
// under one lock per attention call (headBlock.lock), and a scrape copies
// them out as constant histograms. Exposed series are the same as a
// HistogramVec's with labels model, version, layer, head.
type headHistograms struct {
	desc  *prometheus.Desc
	upper []float64 // bucket upper bounds, increasing (the +Inf bucket is implicit)

	mu     sync.Mutex // guards blocks
	blocks []*headBlock
}

func newHeadHistograms(name, help string, buckets []float64) *headHistograms {
	if !sort.Float64sAreSorted(buckets) {
		panic("telemetry: head histogram buckets must increase")
	}
	return &headHistograms{
		desc:  prometheus.NewDesc(name, help, []string{"model", "version", "layer", "head"}, nil),
		upper: buckets,
	}
}

// Describe implements prometheus.Collector.
func (h *headHistograms) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }

// Collect implements prometheus.Collector: one constant histogram per
// (layer, head) of every block, including heads with no observation yet.
func (h *headHistograms) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	blocks := append([]*headBlock(nil), h.blocks...)
	h.mu.Unlock()
	nb := len(h.upper) + 1
	counts := make([]uint64, nb)
	for _, b := range blocks {
		for l := 0; l < b.layers; l++ {
			for hd := 0; hd < b.heads; hd++ {
				i := l*b.heads + hd
				b.mu.Lock()
				copy(counts, b.counts[i*nb:(i+1)*nb])
				sum := b.sums[i]
				b.mu.Unlock()
				cum := make(map[float64]uint64, len(h.upper))
				var n uint64
				for k, u := range h.upper {
					n += counts[k]
					cum[u] = n
				}
				n += counts[nb-1]
				ch <- prometheus.MustNewConstHistogram(h.desc, n, sum, cum, b.model, b.version, strconv.Itoa(l), strconv.Itoa(hd))
			}
		}
	}
}

// block adds the series of a model version's layers × heads, at zero.
func (h *headHistograms) block(model, version string, layers, heads int) *headBlock {
	b := &headBlock{upper: h.upper, model: model, version: version, layers: layers, heads: heads,
		counts: make([]uint64, layers*heads*(len(h.upper)+1)), sums: make([]float64, layers*heads)}
	h.mu.Lock()
	h.blocks = append(h.blocks, b)
	h.mu.Unlock()
	return b
}

// headBlock holds one model version's counts. Observations are made
// between lock and unlock, by one goroutine at a time.
type headBlock struct {
	upper          []float64
	model, version string
	layers, heads  int

	mu     sync.Mutex
	counts []uint64  // (layer, head, bucket) observations per bucket, not cumulative
	sums   []float64 // (layer, head)
}

func (b *headBlock) lock()   { b.mu.Lock() }
func (b *headBlock) unlock() { b.mu.Unlock() }

// observe records v for (layer, head); the lock must be held. Values that
// are not finite are dropped.
func (b *headBlock) observe(layer, head int, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	// k: the first bucket whose upper bound is ≥ v (len(upper): +Inf), by
	// binary search.
	k, n := 0, len(b.upper)
	for n > 0 {
		h := n / 2
		if v > b.upper[k+h] {
			k, n = k+h+1, n-h-1
		} else {
			n = h
		}
	}
	i := layer*b.heads + head
	b.counts[i*(len(b.upper)+1)+k]++
	b.sums[i] += v
}

// snapshot is (layer, head)'s observation count and sum.
func (b *headBlock) snapshot(layer, head int) (count uint64, sum float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	nb := len(b.upper) + 1
	i := layer*b.heads + head
	for _, c := range b.counts[i*nb : (i+1)*nb] {
		count += c
	}
	return count, b.sums[i]
}
