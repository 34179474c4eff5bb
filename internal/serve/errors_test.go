package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headlight/headlight/assets"
	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRequestErrors: every refusal has its status, a JSON error naming the
// limit, and is counted.
func TestRequestErrors(t *testing.T) {
	ts := start(t, func(o *Options) { o.MaxSeqLen = 64; o.MaxTokensCap = 40; o.MaxBatchTokens = 48 })
	long := strings.Repeat("Lily and Tom played ball in the park. ", 10) // ~100 tokens
	mid := strings.Repeat("Tom ran. ", 10)                               // ~52 tokens: under 64, over 48
	for _, c := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"bad JSON", "/v1/completions", `{"prompt": `, 400, "invalid_json"},
		{"wrong type", "/v1/completions", `{"prompt": "x", "max_tokens": "many"}`, 400, "invalid_json"},
		{"prompt array of two", "/v1/completions", map[string]any{"prompt": []string{"a", "b"}}, 400, "invalid_parameter"},
		{"temperature", "/v1/completions", map[string]any{"prompt": "a", "temperature": -1}, 400, "invalid_parameter"},
		{"top_p", "/v1/completions", map[string]any{"prompt": "a", "top_p": 1.5}, 400, "invalid_parameter"},
		{"top_k", "/v1/completions", map[string]any{"prompt": "a", "top_k": -2}, 400, "invalid_parameter"},
		{"max_tokens 0", "/v1/completions", map[string]any{"prompt": "a", "max_tokens": 0}, 400, "invalid_parameter"},
		{"five stops", "/v1/completions", map[string]any{"prompt": "a", "stop": []string{"a", "b", "c", "d", "e"}}, 400, "invalid_parameter"},
		{"n", "/v1/completions", map[string]any{"prompt": "a", "n": 2}, 400, "invalid_parameter"},
		{"unknown model", "/v1/completions", map[string]any{"model": "gpt-4", "prompt": "a"}, 404, "model_not_found"},
		{"unknown route", "/v1/nothing", map[string]any{}, 404, "not_found"},
		{"prompt over max seq len", "/v1/completions", map[string]any{"prompt": long, "max_tokens": 1}, 413, "max_seq_len"},
		{"text over max seq len", "/v1/attention", map[string]any{"text": long}, 413, "max_seq_len"},
		{"max_tokens over cap", "/v1/completions", map[string]any{"prompt": "a", "max_tokens": 41}, 422, "max_tokens_cap"},
		{"over context", "/v1/completions", map[string]any{"prompt": strings.Repeat("Tom ran. ", 5), "max_tokens": 40, "stream": true}, 422, "context_length_exceeded"},
		{"over batch tokens", "/v1/completions", map[string]any{"prompt": mid, "max_tokens": 1}, 413, "max_batch_tokens"},
	} {
		status, _, body := ts.post(t, c.path, c.body)
		wantError(t, c.name, status, body, c.status, c.code)
	}
	for reason, want := range map[string]float64{"max_seq_len": 2, "max_tokens_cap": 1, "context_length": 1, "max_batch_tokens": 1} {
		if got := metric(t, ts.reg, "headlight_admission_rejections_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("rejections for %s: %v, want %v", reason, got, want)
		}
	}
	if got := metric(t, ts.reg, "headlight_errors_total", map[string]string{"endpoint": "/v1/completions", "code": "400"}); got != 9 {
		t.Errorf("400 errors counted: %v, want 9", got)
	}
}

// TestMemoryBudget: a request whose KV cache and activations can never fit
// in the budget left after the weights gets 413 naming the budget; a small
// one is served.
func TestMemoryBudget(t *testing.T) {
	ld := loadDefault(t)
	cfg := ld.Model.Config()
	room := BatchBytes(cfg, 1, 64, 8) // a batch of one: 8 prompt + 56 new tokens
	ts := start(t, func(o *Options) { o.MemoryBudget = WeightBytes(ld.Model) + room }, ld)
	status, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "", "max_tokens": 300})
	wantError(t, "over budget", status, body, 413, "memory_budget")
	if !strings.Contains(string(body), "--memory-budget") {
		t.Errorf("the error does not name the limit: %s", body)
	}
	if status, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "", "max_tokens": 20}); status != 200 {
		t.Errorf("small request: %d %s", status, body)
	}
	if got := metric(t, ts.reg, "headlight_admission_rejections_total", map[string]string{"reason": "memory_budget"}); got != 1 {
		t.Errorf("memory rejections: %v", got)
	}
	if _, err := New(Options{MaxBatch: 1, MaxBatchTokens: 1, MaxQueue: 1, MaxTokensCap: 1, MemoryBudget: 1000}, []*engine.Loaded{ld}, prometheus.NewRegistry()); err == nil {
		t.Error("weights over the budget: started anyway")
	}
}

// TestQueueFull: with the worker busy and the queue full, a request gets
// 429 with Retry-After; the queued ones are served afterwards.
func TestQueueFull(t *testing.T) {
	ts := start(t, func(o *Options) { o.MaxQueue = 2; o.MaxBatch = 1; o.MaxQueueWait = 0 }, slow(t, "slow", 2*time.Millisecond))
	// Hold all memory, so that no batch can start: the queue fills. The
	// warm-up's attention pass hands back its result just before the
	// scheduler releases its memory, so the budget may be busy for a moment
	// after the server reports ready (a request then waits; here we retry).
	eventually(t, "holding the whole budget", func() bool {
		ok, _ := ts.budget.tryReserve(ts.budget.headroom())
		return ok
	})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Go(func() {
			codes[i], _, _ = ts.post(t, "/v1/completions", map[string]any{"prompt": "a", "max_tokens": 5})
		})
	}
	eventually(t, "two queued", func() bool { return metric(t, ts.reg, "headlight_queue_length", nil) == 2 })
	status, hdr, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "a", "max_tokens": 5})
	wantError(t, "queue full", status, body, 429, "queue_full")
	if hdr.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	ts.budget.release(ts.budget.headroom())
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Errorf("queued requests answered %v", codes)
	}
	if got := metric(t, ts.reg, "headlight_admission_rejections_total", map[string]string{"reason": "queue_full"}); got != 1 {
		t.Errorf("queue-full rejections: %v", got)
	}
}

// poisoned is the embedded model with NaN in one query row of head 3 of
// layer 2.
func poisoned(t *testing.T) *engine.Loaded {
	w, err := weights.ParseLlama2C(bytes.Clone(assets.Stories260K))
	if err != nil {
		t.Fatal(err)
	}
	c := w.Config
	d, hd := c.Dim, c.HeadDim()
	row := 2*d*d + 3*hd*d // layer 2, first row of head 3 in Wq (heads·headDim, dim)
	for i := range d {
		w.WQ[row+i] = float32(math.NaN())
	}
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	m, err := model.New("llama", w, attention.NewEngine(pool))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.LoadLlama2C(assets.Tok512, c.VocabSize)
	if err != nil {
		t.Fatal(err)
	}
	return &engine.Loaded{Name: "poisoned", Model: m, Tokenizer: tok}
}

// TestNaNGuard: a model whose attention produces NaN answers 500 naming the
// first head, counts NaN by layer and head, and the server keeps serving.
func TestNaNGuard(t *testing.T) {
	ts := start(t, nil, loadDefault(t), poisoned(t))
	for _, c := range []struct{ path, body string }{
		{"/v1/completions", `{"model": "poisoned", "prompt": "Once", "max_tokens": 5}`},
		{"/v1/completions", `{"model": "poisoned", "prompt": "Once", "max_tokens": 5, "stream": true}`},
		{"/v1/attention", `{"model": "poisoned", "text": "Once"}`},
	} {
		status, _, body := ts.post(t, c.path, c.body)
		wantError(t, c.path, status, body, 500, "nan_in_attention")
		var e errorBody
		_ = json.Unmarshal(body, &e)
		if !strings.Contains(e.Error.Message, "layer 2, head 3") {
			t.Errorf("%s: %q does not name layer 2, head 3", c.path, e.Error.Message)
		}
	}
	if n := metric(t, ts.reg, "headlight_attention_nan_total", map[string]string{"model": "poisoned", "layer": "2", "head": "3"}); n <= 0 {
		t.Errorf("NaN counter of layer 2 head 3: %v", n)
	}
	if n := metric(t, ts.reg, "headlight_attention_nan_total", map[string]string{"model": "poisoned", "layer": "1", "head": "3"}); n != 0 {
		t.Errorf("NaN counter of layer 1 (before the poison): %v", n)
	}
	if status, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "Once", "max_tokens": 5}); status != 200 {
		t.Errorf("healthy model after the NaN: %d %s", status, body)
	}
}
