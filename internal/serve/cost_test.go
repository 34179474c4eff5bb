package serve

import (
	"math"
	"testing"

	"github.com/headlight/headlight/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
)

// histogramSum is the sample sum of the histogram name{labels}; -1 if absent.
func histogramSum(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetHistogram().GetSampleSum()
		}
	}
	return -1
}

func relClose(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b)) }

// TestCost: with a cost of 1 per CPU-second, requests' CPU time is
// charged: the cost counter equals the CPU seconds times the cost, and
// the per-request costs add up to it.
func TestCost(t *testing.T) {
	ts := start(t, func(o *Options) { o.CostPerCPUSecond = 1.0 })
	lbl := map[string]string{"model": "stories260K", "version": "unversioned"}
	if n := metric(t, ts.reg, "headlight_cost_total", lbl); n != 0 {
		t.Errorf("cost after the warm-up: %v, want 0 (warm-up is not charged)", n)
	}
	for i := range 4 {
		if st, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "Once upon", "max_tokens": 16 + i, "temperature": 0}); st != 200 {
			t.Fatalf("status %d: %s", st, body)
		}
	}
	if st, _, body := ts.post(t, "/v1/attention", map[string]any{"text": "Once upon a time"}); st != 200 {
		t.Fatalf("attention: status %d: %s", st, body)
	}
	eventually(t, "5 request costs", func() bool { return metric(t, ts.reg, "headlight_request_cost", lbl) == 5 })
	cpu := metric(t, ts.reg, "headlight_cpu_seconds_total", lbl)
	cost := metric(t, ts.reg, "headlight_cost_total", lbl)
	sum := histogramSum(t, ts.reg, "headlight_request_cost", lbl)
	if !(cost > 0) || !relClose(cost, cpu*1.0, 1e-12) {
		t.Errorf("cost %v, CPU seconds %v: want cost = CPU seconds × 1 > 0", cost, cpu)
	}
	if !relClose(sum, cost, 1e-9) {
		t.Errorf("per-request costs sum to %v, the counter is %v", sum, cost)
	}
}

// TestCostOff: without a cost, CPU seconds are still counted, cost is not.
func TestCostOff(t *testing.T) {
	ts := start(t, nil)
	if st, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "Once", "max_tokens": 24}); st != 200 {
		t.Fatalf("status %d: %s", st, body)
	}
	lbl := map[string]string{"model": "stories260K"}
	eventually(t, "CPU seconds", func() bool { return metric(t, ts.reg, "headlight_cpu_seconds_total", lbl) > 0 })
	if c, n := metric(t, ts.reg, "headlight_cost_total", lbl), metric(t, ts.reg, "headlight_request_cost", lbl); c != 0 || n != 0 {
		t.Errorf("cost off: cost %v, %v request costs", c, n)
	}
}

// TestChargeSplit: a batch's CPU time is split by tokens processed, warm-up
// jobs left out.
func TestChargeSplit(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := telemetry.New(reg, "test")
	opts := Options{CostPerCPUSecond: 3}
	w := &worker{mm: m.Model("m", "v"), opts: &opts}
	w.charge([]*job{{}, {}, {warm: true}}, []int{10, 30, 1000}, 2)
	lbl := map[string]string{"model": "m", "version": "v"}
	if cpu := metric(t, reg, "headlight_cpu_seconds_total", lbl); !relClose(cpu, 2, 1e-15) {
		t.Errorf("CPU seconds %v, want 2", cpu)
	}
	if c := metric(t, reg, "headlight_cost_total", lbl); !relClose(c, 6, 1e-15) {
		t.Errorf("cost %v, want 6", c)
	}
	if n, s := metric(t, reg, "headlight_request_cost", lbl), histogramSum(t, reg, "headlight_request_cost", lbl); n != 2 || !relClose(s, 6, 1e-15) {
		t.Errorf("request costs: %v observations summing to %v, want 2 summing to 6", n, s)
	}
	// The two requests cost 0.5·3 and 1.5·3.
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "headlight_request_cost" {
			continue
		}
		for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
			want := uint64(0)
			for _, c := range []float64{1.5, 4.5} {
				if c <= b.GetUpperBound() {
					want++
				}
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("bucket ≤ %v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
	w.charge([]*job{{warm: true}}, []int{5}, 1)
	if cpu := metric(t, reg, "headlight_cpu_seconds_total", lbl); !relClose(cpu, 2, 1e-15) {
		t.Errorf("a warm-up batch was charged: CPU seconds %v", cpu)
	}
}

// TestShareByPendingTokens: CPU time read after several steps is split by
// the tokens each sequence fed since the last read (a joiner's prompt
// counts in full), warm-up sequences get nothing, and the pending counts
// start again from zero.
func TestShareByPendingTokens(t *testing.T) {
	a := &sequence{j: &job{}, pending: 30, cpu: 1}
	b := &sequence{j: &job{}, pending: 10}
	w := &sequence{j: &job{warm: true}, pending: 60}
	share([]*sequence{a, b, w}, 4)
	if !relClose(a.cpu, 1+3, 1e-15) || !relClose(b.cpu, 1, 1e-15) || w.cpu != 0 {
		t.Errorf("split: %v, %v, warm-up %v; want 4, 1, 0", a.cpu, b.cpu, w.cpu)
	}
	if a.pending != 0 || b.pending != 0 || w.pending != 0 {
		t.Errorf("pending not reset: %d %d %d", a.pending, b.pending, w.pending)
	}
	share([]*sequence{a, b}, 5) // nothing pending: nobody is charged
	if !relClose(a.cpu, 4, 1e-15) || !relClose(b.cpu, 1, 1e-15) {
		t.Errorf("charged without pending tokens: %v, %v", a.cpu, b.cpu)
	}
}
