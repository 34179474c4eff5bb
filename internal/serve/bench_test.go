package serve

import (
	"context"
	"testing"

	"github.com/headlight/headlight/internal/engine"
)

// The server's overhead at batch 1: compare ns/op of each Engine/Server
// pair (benchstat, alternating runs). Generate* decode 128 greedy tokens
// from BOS (the per-step cost); OneToken* prefill a 12-token prompt and
// generate one token (the fixed cost of a request: HTTP, JSON, the hand-off
// to the worker and back).

const oneTokenPrompt = "Once upon a time there was a little girl named Lily"

func benchEngine(b *testing.B, prompt string, n int) {
	ld := loadDefault(b)
	tok := ld.Tokenizer
	for b.Loop() {
		req := engine.Request{Prompt: tok.Encode(prompt, true, false), MaxTokens: n, Stop: []int{tok.BOS(), tok.EOS()}}
		if _, err := engine.Generate(context.Background(), ld.Model, req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func benchServer(b *testing.B, prompt string, n int) {
	ts := start(b, func(o *Options) { o.MaxQueueWait = 0 })
	body := map[string]any{"prompt": prompt, "max_tokens": n, "temperature": 0}
	for b.Loop() {
		if status, _, out := ts.post(b, "/v1/completions", body); status != 200 {
			b.Fatalf("%d %s", status, out)
		}
	}
}

func BenchmarkGenerateEngine(b *testing.B) { benchEngine(b, "", 128) }
func BenchmarkGenerateServer(b *testing.B) { benchServer(b, "", 128) }
func BenchmarkOneTokenEngine(b *testing.B) { benchEngine(b, oneTokenPrompt, 1) }
func BenchmarkOneTokenServer(b *testing.B) { benchServer(b, oneTokenPrompt, 1) }
