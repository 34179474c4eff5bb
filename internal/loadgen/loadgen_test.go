package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBaseURL(t *testing.T) {
	ok := map[string]string{
		"127.0.0.1:8080":             "http://127.0.0.1:8080",
		"127.8.9.10:1":               "http://127.8.9.10:1",
		"[::1]:8080":                 "http://[::1]:8080",
		"localhost:9":                "http://localhost:9",
		"LOCALHOST:9":                "http://LOCALHOST:9",
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://localhost:8080/":     "http://localhost:8080",
		"[::ffff:127.0.0.1]:80":      "http://[::ffff:127.0.0.1]:80",
		"http://[0:0:0:0:0:0:0:1]:5": "http://[0:0:0:0:0:0:0:1]:5",
	}
	for in, want := range ok {
		if got, err := BaseURL(in); err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"10.0.0.1:80", "0.0.0.0:8080", "[::]:8080", "8.8.8.8:53", "example.com:80",
		"localhost.example.com:80", "128.0.0.1:80", "[::ffff:10.0.0.1]:80", "[fe80::1%lo]:80", "127.0.0.1",
		"127.0.0.1:", "https://127.0.0.1:1", "http://127.0.0.1:1/v1", "http://u:p@127.0.0.1:1", ""} {
		if got, err := BaseURL(in); err == nil {
			t.Errorf("BaseURL(%q) = %q; want an error", in, got)
		}
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.5, 6}, {0.95, 10.5}, {0.99, 10.9}, {1, 11}} {
		if got := Quantile(xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) || Median([]float64{3, 1, 2}) != 2 {
		t.Error("empty quantile or median wrong")
	}
}

func TestWorkloadDistribution(t *testing.T) {
	w := DefaultWorkload()
	const n = 4000
	a, err := w.Items(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := w.Items(n, nil)
	w2 := w
	w2.Seed = 2
	c, _ := w2.Items(n, nil)
	same, lens := 0, make([]float64, n)
	counts := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("item %d differs between two draws with the same seed", i)
		}
		if a[i] == c[i] {
			same++
		}
		got := len(strings.Fields(a[i].Prompt)) // one word per token without a counter
		if got != a[i].PromptTokens || got < w.PromptMin || got > w.PromptMax {
			t.Fatalf("item %d: %d words for a target of %d in [%d, %d]", i, got, a[i].PromptTokens, w.PromptMin, w.PromptMax)
		}
		lens[i] = math.Log(float64(got))
		counts[a[i].MaxTokens]++
	}
	if same > n/100 {
		t.Errorf("%d of %d items equal under another seed", same, n)
	}
	sort.Float64s(lens)
	// Log-normal: ln(length) has median ln(24) and quartiles ±0.674σ.
	med, q1, q3 := Quantile(lens, 0.5), Quantile(lens, 0.25), Quantile(lens, 0.75)
	if math.Abs(med-math.Log(w.PromptMedian)) > 0.06 || math.Abs((q3-q1)/(2*0.6745)-w.PromptSigma) > 0.06 {
		t.Errorf("ln(length): median %.3f (want %.3f), σ from quartiles %.3f (want %.2f)", med, math.Log(w.PromptMedian), (q3-q1)/(2*0.6745), w.PromptSigma)
	}
	for i, m := range w.MaxTokens {
		if f := float64(counts[m]) / n; math.Abs(f-w.MaxTokensWeights[i]) > 0.03 {
			t.Errorf("max_tokens %d: frequency %.3f, want %.2f", m, f, w.MaxTokensWeights[i])
		}
	}
	if len(counts) != len(w.MaxTokens) {
		t.Errorf("max_tokens values %v, want only %v", counts, w.MaxTokens)
	}
}

func TestWorkloadCounter(t *testing.T) {
	w := DefaultWorkload()
	chars := func(s string) int { return len(s) + 1 } // "tokens" = bytes + BOS
	items, err := w.Items(200, chars)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		n := chars(it.Prompt)
		words := strings.Fields(it.Prompt)
		shorter := chars(strings.Join(words[:len(words)-1], " "))
		if n < it.PromptTokens || (len(words) > 1 && shorter >= it.PromptTokens) {
			t.Fatalf("prompt of %d tokens (%d without its last word) for a target of %d", n, shorter, it.PromptTokens)
		}
	}
	bad := w
	bad.MaxTokensWeights = []float64{1}
	if _, err := bad.Items(1, nil); err == nil {
		t.Error("mismatched weights accepted")
	}
}

// fake answers completions like the server: JSON or SSE with usage; a
// prompt containing "fail" gets a 500, "slow" sleeps for a second.
func fake(t *testing.T, inflight, peak *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		var body struct {
			Prompt    string `json:"prompt"`
			MaxTokens int    `json:"max_tokens"`
			Stream    bool   `json:"stream"`
		}
		if r.URL.Path != "/v1/completions" || decode(r, &body) != nil {
			http.Error(w, "bad", 400)
			return
		}
		switch {
		case strings.Contains(body.Prompt, "fail"):
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":{"message":"boom","type":"server_error","code":"internal_error"}}`)
			return
		case strings.Contains(body.Prompt, "slow"):
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
		time.Sleep(2 * time.Millisecond)
		usage := fmt.Sprintf(`{"prompt_tokens":3,"completion_tokens":%d,"total_tokens":%d}`, body.MaxTokens, 3+body.MaxTokens)
		if !body.Stream {
			fmt.Fprintf(w, `{"choices":[{"text":"hi","index":0}],"usage":%s}`, usage)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"text\":\"\"}]}\n\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n")
		w.(http.Flusher).Flush()
		time.Sleep(3 * time.Millisecond)
		fmt.Fprintf(w, "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\"}]}\n\ndata: {\"choices\":[],\"usage\":%s}\n\ndata: [DONE]\n\n", usage)
	}))
}

func TestRun(t *testing.T) {
	var inflight, peak atomic.Int32
	srv := fake(t, &inflight, &peak)
	defer srv.Close()
	items := []Item{{Prompt: "a", MaxTokens: 4}, {Prompt: "b", MaxTokens: 6}, {Prompt: "fail", MaxTokens: 4}, {Prompt: "c", MaxTokens: 2}}
	for _, stream := range []bool{false, true} {
		peak.Store(0)
		cfg := Config{BaseURL: srv.URL, Requests: 10, Duration: 10 * time.Second, Concurrency: 3, Stream: stream}
		recs, wall, err := Run(t.Context(), cfg, items)
		if err != nil {
			t.Fatal(err)
		}
		s := Summarize(recs, wall)
		// Items cycle: a b fail c a b fail c a b → 2 failures, 8 ok with 4+6+2+4+6+2+4+6 tokens.
		if s.Requests != 10 || s.OK != 8 || s.Errors != 2 || s.Cancelled != 0 || s.GeneratedTokens != 34 || s.ErrorsByStatus["500"] != 2 {
			t.Errorf("stream %v: %+v", stream, s)
		}
		if math.Abs(s.ErrorRate-0.2) > 1e-12 || !strings.Contains(s.FirstError, "internal_error") {
			t.Errorf("stream %v: error rate %v, first error %q", stream, s.ErrorRate, s.FirstError)
		}
		if p := peak.Load(); p > 3 || p < 1 {
			t.Errorf("stream %v: %d requests in flight at once with concurrency 3", stream, p)
		}
		if stream != (s.TTFT != nil) {
			t.Errorf("stream %v: TTFT %v", stream, s.TTFT)
		}
		if s.TTFT != nil && !(s.TTFT.P50 > 0 && s.TTFT.P50 < s.Latency.P50) {
			t.Errorf("TTFT p50 %v not within latency p50 %v", s.TTFT.P50, s.Latency.P50)
		}
		if !(s.Latency.P50 > 0 && s.Latency.P50 <= s.Latency.P95 && s.Latency.P95 <= s.Latency.P99 && s.Latency.P99 <= s.Latency.Max) {
			t.Errorf("latency percentiles out of order: %+v", s.Latency)
		}
		var sb strings.Builder
		if err := s.WriteTable(&sb); err != nil || !strings.Contains(sb.String(), "error rate") {
			t.Errorf("table: %v\n%s", err, sb.String())
		}
	}
}

func TestRunDeadline(t *testing.T) {
	var inflight, peak atomic.Int32
	srv := fake(t, &inflight, &peak)
	defer srv.Close()
	cfg := Config{BaseURL: srv.URL, Requests: 1000, Duration: 150 * time.Millisecond, Concurrency: 2}
	t0 := time.Now()
	recs, _, err := Run(t.Context(), cfg, []Item{{Prompt: "slow", MaxTokens: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 900*time.Millisecond {
		t.Errorf("run took %v with a 150ms bound", el)
	}
	s := Summarize(recs, time.Since(t0))
	if s.Requests != 2 || s.Cancelled != 2 || s.Errors != 0 || s.ErrorRate != 0 {
		t.Errorf("%+v; want 2 requests cut off by the deadline", s)
	}
	if _, _, err := Run(t.Context(), Config{BaseURL: "10.1.2.3:80", Requests: 1, Duration: time.Second, Concurrency: 1}, []Item{{}}); err == nil {
		t.Error("non-loopback address accepted")
	}
}

func decode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }
