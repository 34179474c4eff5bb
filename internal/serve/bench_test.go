package serve

import (
	"context"
	"testing"

	"github.com/headlight/headlight/internal/engine"
)

// The server's overhead at batch 1: compare ns/op of these two (benchstat);
// both generate 128 greedy tokens from BOS on the embedded model.

func BenchmarkGenerateEngine(b *testing.B) {
	ld := loadDefault(b)
	req := engine.Request{Prompt: []int{ld.Tokenizer.BOS()}, MaxTokens: 128}
	for b.Loop() {
		if _, err := engine.Generate(context.Background(), ld.Model, req, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkGenerateServer(b *testing.B) {
	ts := start(b, func(o *Options) { o.MaxQueueWait = 0 })
	body := map[string]any{"prompt": "", "max_tokens": 128, "temperature": 0}
	for b.Loop() {
		if status, _, out := ts.post(b, "/v1/completions", body); status != 200 {
			b.Fatalf("%d %s", status, out)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
