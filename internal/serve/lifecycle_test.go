package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// TestCancellation: a client that closes the connection mid-stream stops
// its generation; the in-flight and running gauges return to 0 long
// before the request would have finished.
func TestCancellation(t *testing.T) {
	const delay = 5 * time.Millisecond // per token: 400 tokens take 2 s
	ts := start(t, nil, slow(t, "slow", delay))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.url+"/v1/completions",
		strings.NewReader(`{"prompt": "", "max_tokens": 400, "stream": true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first chunk %q: %v", line, err)
	}
	if got := metric(t, ts.reg, "headlight_requests_in_flight", map[string]string{"endpoint": "/v1/completions"}); got != 1 {
		t.Fatalf("in flight while streaming: %v", got)
	}
	t0 := time.Now()
	cancel() // closes the connection
	resp.Body.Close()
	eventually(t, "in-flight gauge back to 0", func() bool {
		return metric(t, ts.reg, "headlight_requests_in_flight", map[string]string{"endpoint": "/v1/completions"}) == 0
	})
	eventually(t, "running gauge back to 0", func() bool {
		return metric(t, ts.reg, "headlight_sequences_running", map[string]string{"model": "slow"}) == 0
	})
	if el := time.Since(t0); el > time.Second {
		t.Errorf("cancellation took %v", el)
	}
	if n := metric(t, ts.reg, "headlight_generated_tokens_total", map[string]string{"model": "slow"}); n >= 400 || n < 1 {
		t.Errorf("%v tokens generated for a request cancelled early", n)
	}
	if n := metric(t, ts.reg, "headlight_request_duration_seconds", map[string]string{"endpoint": "/v1/completions", "code": "499"}); n != 1 {
		t.Errorf("cancelled request recorded %v times with code 499", n)
	}
}

// TestShutdownDrains: cancelling Serve's context while a request runs lets
// that request finish with all its tokens; then Serve returns nil and the
// port is closed.
func TestShutdownDrains(t *testing.T) {
	ts := start(t, nil, slow(t, "slow", 3*time.Millisecond))
	type result struct {
		status int
		body   []byte
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(ts.url+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "", "max_tokens": 60, "temperature": 0}`))
		if err != nil {
			res <- result{body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, b}
	}()
	eventually(t, "request running", func() bool {
		return metric(t, ts.reg, "headlight_sequences_running", map[string]string{"model": "slow"}) == 1
	})
	ts.stop()
	r := <-res
	var c completionResponse
	if err := json.Unmarshal(r.body, &c); err != nil || r.status != 200 || c.Usage["completion_tokens"] != 60 {
		t.Fatalf("in-flight request during shutdown: %d %s", r.status, r.body)
	}
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		ts.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if ts.Ready() {
		t.Error("ready after shutdown")
	}
	if _, err := http.Get(ts.url + "/healthz"); err == nil {
		t.Error("still answering after shutdown")
	}
}

// TestNotReady: before the warm-up, /readyz and the model endpoints answer
// 503 while /healthz answers 200.
func TestNotReady(t *testing.T) {
	srv, err := New(Defaults(), []*engine.Loaded{loadDefault(t)}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/healthz", 200}, {"GET", "/readyz", 503}, {"POST", "/v1/completions", 503}, {"POST", "/v1/attention", 503}, {"GET", "/v1/models", 200},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(`{}`)))
		if rec.Code != c.status {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, rec.Code, c.status, rec.Body)
		}
	}
	if err := srv.Warmup(context.Background()); err != nil || !srv.Ready() {
		t.Fatalf("warm-up: %v, ready %v", err, srv.Ready())
	}
}

// TestMetricsEndpoint: after a completion and an attention request,
// /metrics has the head-entropy, output-norm, latency and token series,
// with observations, and the Go and process collectors.
func TestMetricsEndpoint(t *testing.T) {
	ts := start(t, nil)
	if status, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "Once upon a time", "max_tokens": 10, "temperature": 0}); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if status, _, body := ts.post(t, "/v1/attention", map[string]any{"text": "Once upon a time"}); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	text := string(b)
	for _, series := range []string{
		`headlight_attention_entropy_nats_bucket{head="7",layer="4",model="stories260K",version="unversioned",le="0.5"}`,
		`headlight_attention_output_norm_count{head="0",layer="0",model="stories260K",version="unversioned"}`,
		`headlight_attention_nan_total{head="3",layer="2",model="stories260K",version="unversioned"} 0`,
		`headlight_request_duration_seconds_bucket{code="200",endpoint="/v1/completions",model="stories260K",version="unversioned",le="0.5"}`,
		`headlight_time_to_first_token_seconds_count{model="stories260K",version="unversioned"} 1`,
		`headlight_time_per_output_token_seconds_count{model="stories260K",version="unversioned"} 9`,
		`headlight_generated_tokens_total{model="stories260K",version="unversioned"} 10`,
		`headlight_queue_wait_seconds_count{model="stories260K",version="unversioned"} 2`,
		`headlight_prefill_duration_seconds_count`, `headlight_batch_size_bucket`, `headlight_sequence_length_tokens_bucket`,
		`headlight_queue_length{model="stories260K",version="unversioned"} 0`, `headlight_model_info{family="llama"`, `headlight_tokenizer_info{fingerprint="`, `headlight_build_info{`,
		`headlight_memory_budget_bytes 1.073741824e+09`, `headlight_memory_reserved_bytes`,
		`go_goroutines`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	// Sampled requests feed every head: 5 prompt rows (BOS, 4 words) + 9
	// decode rows of the completion, 5 rows of the attention request
	// (warm-up is not sampled).
	if n := metric(t, ts.reg, "headlight_attention_entropy_nats", map[string]string{"layer": "3", "head": "5"}); n != 5+9+5 {
		t.Errorf("entropy observations of layer 3 head 5: %v, want 19", n)
	}
	ts2 := start(t, func(o *Options) { o.HeadStatsSample = 0 })
	ts2.post(t, "/v1/completions", map[string]any{"prompt": "Once", "max_tokens": 3})
	if n := metric(t, ts2.reg, "headlight_attention_entropy_nats", map[string]string{"layer": "0", "head": "0"}); n != 0 {
		t.Errorf("sampling rate 0 recorded %v entropy observations", n)
	}
}
