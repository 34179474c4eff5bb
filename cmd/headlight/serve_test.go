package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeHelp: --help documents every flag with its environment variable.
func TestServeHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range []string{"--addr", "$HEADLIGHT_ADDR", "--model", "$HEADLIGHT_MODEL", "--max-batch", "$HEADLIGHT_MAX_BATCH",
		"--max-batch-tokens", "--max-queue-wait", "$HEADLIGHT_MAX_QUEUE_WAIT", "--max-queue", "--max-seq-len", "--max-tokens-cap",
		"--memory-budget", "$HEADLIGHT_MEMORY_BUDGET", "--head-stats-sample", "--threads", "/v1/completions", "/v1/attention", "/metrics",
		"--capture-db", "$HEADLIGHT_CAPTURE_DB", "--capture-sample", "--capture-heads", "--capture-topk", "--capture-raw-tokens", "--capture-max",
		"/v1/captures", "--canary", "$HEADLIGHT_CANARY", "--config", "$HEADLIGHT_CONFIG", "--cost-per-cpu-second", "$HEADLIGHT_COST_PER_CPU_SECOND", "Configuration file", "wins over the file", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/embeddings", "--weights", "$HEADLIGHT_WEIGHTS"} {
		if !strings.Contains(errb.String(), s) {
			t.Errorf("help lacks %q", s)
		}
	}
}

func TestServeBadConfig(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		code int
	}{
		{[]string{"--max-batch", "x"}, nil, 2},
		{nil, map[string]string{"HEADLIGHT_MAX_BATCH": "many"}, 2},
		{nil, map[string]string{"HEADLIGHT_MEMORY_BUDGET": "lots"}, 2},
		{[]string{"extra"}, nil, 2},
		{[]string{"--log-level", "loud"}, nil, 2},
		{[]string{"--max-batch", "0", "--addr", "127.0.0.1:0"}, nil, 1},
		{[]string{"--model", "x=/nonexistent/model.bin", "--addr", "127.0.0.1:0"}, nil, 1},
		{[]string{"--memory-budget", "1KiB", "--addr", "127.0.0.1:0"}, nil, 1},
		{[]string{"--capture-heads", "x"}, nil, 2},
		{[]string{"--weights", "f8"}, nil, 2},
		{[]string{"--cost-per-cpu-second", "-1", "--addr", "127.0.0.1:0"}, nil, 1},
		{[]string{"--capture-sample", "2", "--addr", "127.0.0.1:0"}, nil, 1},
		{[]string{"--capture-db", "/nonexistent/dir/c.db", "--addr", "127.0.0.1:0"}, nil, 1},
		{[]string{"--capture-db", "c.db", "--capture-heads", "9:0", "--addr", "127.0.0.1:0"}, nil, 1},
		{nil, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, 1},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			if code := serveMain(context.Background(), c.args, &out, &errb, nil); code != c.code || errb.Len() == 0 {
				t.Errorf("%v %v: exit %d (%q), want %d with a message", c.args, c.env, code, errb.String(), c.code)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "512MiB": 512 << 20, "2GB": 2e9, "4096": 4096, "1.5KiB": 1536, "10 MB": 1e7} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("%q: %d (%v), want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1XB", "GiB", "0"} {
		var b byteSize
		if b.Set(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestServeRuns: the command with settings from flags and environment
// serves on a loopback port, becomes ready, answers, and exits 0 when its
// context ends. A flag wins over its variable.
func TestServeRuns(t *testing.T) {
	t.Setenv("HEADLIGHT_MODEL", "tiny=stories260K,other=")
	t.Setenv("HEADLIGHT_MAX_TOKENS_CAP", "7")
	t.Setenv("HEADLIGHT_WEIGHTS", "bf16")
	t.Setenv("HEADLIGHT_ADDR", "127.0.0.1:1") // overridden by --addr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	code := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		code <- serveMain(ctx, []string{"--addr", "127.0.0.1:0", "--threads", "2", "--log-level", "warn"}, &out, &errb, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case c := <-code:
		t.Fatalf("exited %d: %s", c, errb.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
	}
	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var models struct{ Data []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&models)
	resp.Body.Close()
	if len(models.Data) != 2 || models.Data[0].ID != "tiny" || models.Data[1].ID != "other" {
		t.Errorf("models from $HEADLIGHT_MODEL: %+v", models)
	}
	resp, err = http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "Hi", "max_tokens": 8}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 422 {
		t.Errorf("max_tokens 8 over $HEADLIGHT_MAX_TOKENS_CAP 7: status %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "Once upon a time", "max_tokens": 7, "temperature": 0}`))
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Choices []struct{ Text string } }
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(c.Choices) != 1 || c.Choices[0].Text == "" {
		t.Errorf("completion with $HEADLIGHT_WEIGHTS=bf16: status %d, %+v", resp.StatusCode, c)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d: %s", c, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(out.String(), "listening on http://127.0.0.1:") {
		t.Errorf("stdout: %q", out.String())
	}
}

// TestServeEmbedder: --model with a BERT directory serves /v1/embeddings
// beside the embedded decoder, and writes captures to --capture-db.
func TestServeEmbedder(t *testing.T) {
	dir := toyBERTDir(t)
	db := t.TempDir() + "/captures.db"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	code := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		code <- serveMain(ctx, []string{"--addr", "127.0.0.1:0", "--threads", "2", "--log-level", "warn", "--model", "stories260K",
			"--model", "minilm@v2=" + dir, "--capture-db", db, "--capture-sample", "1", "--capture-heads", "0:1"}, &out, &errb, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case c := <-code:
		t.Fatalf("exited %d: %s", c, errb.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
	}
	resp, err := http.Post(base+"/v1/embeddings", "application/json", strings.NewReader(`{"model": "minilm", "input": ["the cat sat", "a dog"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var emb struct {
		Data []struct{ Embedding []float32 }
	}
	json.NewDecoder(resp.Body).Decode(&emb)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 48 {
		t.Errorf("embeddings: %d %+v", resp.StatusCode, emb)
	}
	resp, err = http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "Hi", "max_tokens": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var caps struct {
		Data []struct{ Heads []struct{ Layer, Head int } }
	}
	for deadline := time.Now().Add(5 * time.Second); len(caps.Data) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(base + "/v1/captures"); err == nil {
			json.NewDecoder(resp.Body).Decode(&caps)
			resp.Body.Close()
		}
	}
	if len(caps.Data) != 1 || len(caps.Data[0].Heads) != 1 || caps.Data[0].Heads[0].Head != 1 {
		t.Errorf("captures: %+v", caps)
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("exit %d: %s", c, errb.String())
	}
}
