package telemetry

import (
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
	index *bucketIndex

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
		index: newBucketIndex(buckets),
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

// block adds the series of a model version's layers × heads, at zero. The
// block is guarded by mu, which blocks of the same probe may share so that
// one lock covers them all; nil: a mutex of its own.
func (h *headHistograms) block(model, version string, layers, heads int, mu *sync.Mutex) *headBlock {
	if mu == nil {
		mu = new(sync.Mutex)
	}
	nb := len(h.upper) + 1
	b := &headBlock{upper: h.upper, index: h.index, nb: nb, model: model, version: version, layers: layers, heads: heads,
		mu: mu, counts: make([]uint64, layers*heads*nb), sums: make([]float64, layers*heads)}
	h.mu.Lock()
	h.blocks = append(h.blocks, b)
	h.mu.Unlock()
	return b
}

// headBlock holds one model version's counts. Observations are made
// between lock and unlock, by one goroutine at a time.
type headBlock struct {
	upper          []float64
	index          *bucketIndex
	nb             int // buckets per series: len(upper) + 1
	model, version string
	layers, heads  int

	mu     *sync.Mutex
	counts []uint64  // (layer, head, bucket) observations per bucket, not cumulative
	sums   []float64 // (layer, head)
}

func (b *headBlock) lock()   { b.mu.Lock() }
func (b *headBlock) unlock() { b.mu.Unlock() }

// observe records v for (layer, head); the lock must be held. Values that
// are not finite are dropped.
func (b *headBlock) observe(layer, head int, v float64) { b.add(layer*b.heads+head, v) }

// add records v for series i = layer·heads + head; the lock must be held.
// Values that are not finite are dropped.
func (b *headBlock) add(i int, v float64) {
	if k := b.index.bucket(v); k >= 0 {
		b.counts[i*b.nb+k]++
		b.sums[i] += v
	}
}

// addRows records the first rows of each head's seqQ values (heads,
// seqQ) whose attended count is positive, for the series i0 + head: the
// probe's entropy loop. The lock must be held.
//
// Like addScaled, its inner loop looks buckets up in the table and makes
// no call, so that its values stay in registers; it stops at a value
// outside the table, which the outer loop records by add (a search).
func (b *headBlock) addRows(i0 int, values []float32, attended []int32, seqQ, rows int) {
	attended = attended[:len(values)]
	x, counts, sums, nb := b.index, b.counts, b.sums, b.nb
	for q := range rows { // rows outside, heads inside: one pass when decoding
		i, r := i0, q
		for {
			for ; r < len(values); i, r = i+1, r+seqQ {
				if attended[r] <= 0 {
					continue
				}
				v := float64(values[r])
				c := x.cell(v)
				if c >= tableCells {
					break
				}
				counts[i*nb+x.inCell(c, v)]++
				sums[i] += v
			}
			if r >= len(values) {
				break
			}
			b.add(i, float64(values[r]))
			i, r = i+1, r+seqQ
		}
	}
}

// addScaled records values[h] / scale for the series i0 + h: the probe's
// output-norm loop (see addRows). The lock must be held.
func (b *headBlock) addScaled(i0 int, values []float32, scale float64) {
	x, counts, nb := b.index, b.counts, b.nb
	sums := b.sums[i0 : i0+len(values)]
	for h := 0; ; h++ {
		for ; h < len(values); h++ {
			v := float64(values[h]) / scale
			c := x.cell(v)
			if c >= tableCells {
				break
			}
			counts[(i0+h)*nb+x.inCell(c, v)]++
			sums[h] += v
		}
		if h >= len(values) {
			return
		}
		b.add(i0+h, float64(values[h])/scale)
	}
}

// snapshot is (layer, head)'s observation count and sum.
func (b *headBlock) snapshot(layer, head int) (count uint64, sum float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := layer*b.heads + head
	for _, c := range b.counts[i*b.nb : (i+1)*b.nb] {
		count += c
	}
	return count, b.sums[i]
}
