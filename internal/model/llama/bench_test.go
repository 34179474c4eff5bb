package llama_test

import (
	"testing"

	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
)

// BenchmarkDecode512 decodes greedily from BOS for 512 positions on one
// thread, as llama2.c's run.c is measured; tokens/s is reported. packed:
// the weights as every engine load keeps them (StoreWeights(F32));
// rowmajor: as the file holds them.
func BenchmarkDecode512(b *testing.B) {
	for _, packed := range []bool{false, true} {
		name := map[bool]string{false: "rowmajor", true: "packed"}[packed]
		b.Run(name, func(b *testing.B) {
			m := stories(b, 1)
			if packed {
				if err := m.StoreWeights(tensor.F32, nil); err != nil {
					b.Fatal(err)
				}
			}
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
		})
	}
}
