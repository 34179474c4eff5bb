package telemetry

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

// TestHeadHistogramsMatchPrometheus: the exposition of headHistograms is
// exactly that of a prometheus.HistogramVec fed the same observations
// (bucket edges included: a value equal to an upper bound falls in that
// bucket), for two models, heads with no observation included.
func TestHeadHistogramsMatchPrometheus(t *testing.T) {
	buckets := []float64{0.5, 1, 2.5, 4}
	const name, help = "test_head_values", "Test."
	ours := prometheus.NewRegistry()
	h := newHeadHistograms(name, help, buckets)
	ours.MustRegister(h)
	ref := prometheus.NewRegistry()
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"model", "version", "layer", "head"})
	ref.MustRegister(vec)

	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []struct {
		name          string
		layers, heads int
	}{{"a", 2, 3}, {"b", 1, 2}} {
		blk := h.block(m.name, "v1", m.layers, m.heads, nil)
		for l := range m.layers {
			for hd := range m.heads {
				vec.WithLabelValues(m.name, "v1", itoa(l), itoa(hd)) // every series exists at zero
			}
		}
		blk.lock()
		for range 500 {
			l, hd := rng.IntN(m.layers), rng.IntN(m.heads-1) // the last head gets nothing
			v := []float64{0.5, 1, 2.5, 4, 7}[rng.IntN(5)]   // edges and +Inf
			if rng.IntN(2) == 0 {
				v = rng.Float64() * 5
			}
			blk.observe(l, hd, v)
			vec.WithLabelValues(m.name, "v1", itoa(l), itoa(hd)).Observe(v)
		}
		blk.observe(0, 0, math.NaN()) // dropped, as the probe never feeds them
		blk.observe(0, 0, math.Inf(1))
		blk.unlock()
	}
	want, err := testutil.CollectAndFormat(vec, expfmt.TypeTextPlain, name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := testutil.CollectAndFormat(h, expfmt.TypeTextPlain, name)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("exposition differs\n--- ours\n%s\n--- prometheus\n%s", got, want)
	}
	if n := strings.Count(string(got), "_count{"); n != 2*3+1*2 {
		t.Fatalf("%d series, want 8", n)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// benchValues is a fixed pseudo-random sequence spanning buckets (every
// bucket, its edges, the +Inf bucket and values below the first bound), so
// that branch prediction in the benchmark is as poor as on real data.
func benchValues(buckets []float64) []float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	lo, hi := math.Log2(buckets[0])-2, math.Log2(buckets[len(buckets)-1])+1
	vs := make([]float64, 4096)
	for i := range vs {
		switch rng.IntN(8) {
		case 0: // an edge: falls in that bucket
			vs[i] = buckets[rng.IntN(len(buckets))]
		case 1, 2, 3: // uniform on a log scale
			vs[i] = math.Exp2(lo + (hi-lo)*rng.Float64())
		default: // uniform on a linear scale
			vs[i] = rng.Float64() * buckets[len(buckets)-1] * 1.1
		}
	}
	return vs
}

func BenchmarkHeadObserve(b *testing.B) {
	for _, bk := range []struct {
		name    string
		buckets []float64
	}{{"entropy", entropyBuckets}, {"norm", normBuckets}} {
		vs := benchValues(bk.buckets)
		h := newHeadHistograms("x", "x", bk.buckets)
		blk := h.block("m", "v", 12, 12, nil)
		vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "y", Help: "y", Buckets: bk.buckets}, []string{"l"})
		o := vec.WithLabelValues("0")
		b.Run(bk.name+"/headHistograms", func(b *testing.B) {
			blk.lock()
			for i := 0; b.Loop(); i++ {
				blk.observe(i%12, i%12, vs[i%len(vs)])
			}
			blk.unlock()
		})
		b.Run(bk.name+"/prometheus", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				o.Observe(vs[i%len(vs)])
			}
		})
	}
}
