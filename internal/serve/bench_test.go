package serve

import (
	"context"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/telemetry"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/prometheus/client_golang/prometheus"
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

func benchServer(b *testing.B, prompt string, n int, inline bool) {
	ts := start(b, func(o *Options) { o.MaxQueueWait, o.NoInline = 0, !inline })
	body := map[string]any{"prompt": prompt, "max_tokens": n, "temperature": 0}
	for b.Loop() {
		if status, _, out := ts.post(b, "/v1/completions", body); status != 200 {
			b.Fatalf("%d %s", status, out)
		}
	}
}

func BenchmarkGenerateEngine(b *testing.B)       { benchEngine(b, "", 128) }
func BenchmarkGenerateServer(b *testing.B)       { benchServer(b, "", 128, true) }
func BenchmarkGenerateServerWorker(b *testing.B) { benchServer(b, "", 128, false) }
func BenchmarkOneTokenEngine(b *testing.B)       { benchEngine(b, oneTokenPrompt, 1) }
func BenchmarkOneTokenServer(b *testing.B)       { benchServer(b, oneTokenPrompt, 1, true) }
func BenchmarkOneTokenServerWorker(b *testing.B) { benchServer(b, oneTokenPrompt, 1, false) }

// BenchmarkDecodeStep decodes 128 greedy tokens from BOS on one state, as
// the worker does, without HTTP: plain (no probe), stats (the attention
// statistics computed, no histograms) and probe (statistics observed into
// the head histograms, as a sampled request). ns/op ÷ 128 is a step.
func BenchmarkDecodeStep(b *testing.B) {
	ld := loadDefault(b)
	cfg := ld.Model.Config()
	m := telemetry.New(prometheus.NewRegistry(), "bench")
	probe := m.NewHeadProbe("m", "v", cfg.Layers, cfg.Heads)
	for _, mode := range []string{"plain", "stats", "probe"} {
		b.Run(mode, func(b *testing.B) {
			st := model.NewState(cfg, 1, 256, tensor.F32)
			switch mode {
			case "stats":
				st.Probe = nopProbe{}
			case "probe":
				st.Probe = probe
				probe.Begin(1, []int{1}, []bool{true})
			}
			for b.Loop() {
				for _, c := range st.Caches {
					c.Reset()
				}
				tok := ld.Tokenizer.BOS()
				for range 128 {
					logits, err := ld.Model.Forward(st, []int{tok}, 1, nil, true)
					if err != nil {
						b.Fatal(err)
					}
					tok = nn.Argmax(logits)
				}
			}
		})
	}
}

type nopProbe struct{}

func (nopProbe) ObserveAttention(int, *attention.Stats) {}
