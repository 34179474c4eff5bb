package llama_test

import (
	"testing"

	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
)

// BenchmarkDecode512 decodes greedily from BOS for 512 positions on one
// thread, as llama2.c's run.c is measured; tokens/s is reported.
func BenchmarkDecode512(b *testing.B) {
	m := stories(b, 1)
	cfg := m.Config()
	for b.Loop() {
		st := model.NewState(cfg, 1, 512, tensor.F32)
		tok := 1
		for pos := 0; pos < 512; pos++ {
			logits, err := m.Forward(st, []int{tok}, 1, nil, true)
			if err != nil {
				b.Fatal(err)
			}
			tok = nn.Argmax(logits)
		}
	}
	b.ReportMetric(512*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
