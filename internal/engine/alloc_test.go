package engine

import (
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/testutil"
)

type nopProbe struct{}

func (nopProbe) ObserveAttention(int, *attention.Stats) {}

// TestDecodeStepAllocations: once a state has run its prefill, a decoding
// step of the embedded model allocates only the logits it returns —
// activations come from the state's arena and attention from pools — with
// a probe attached (statistics on), so a server's decode loop leaves the
// garbage collector idle.
func TestDecodeStepAllocations(t *testing.T) {
	if testutil.Race {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	pool := kernels.NewPool(2)
	defer pool.Close()
	ld, err := Load("", "", attention.NewEngine(pool))
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	m := ld.Model
	prompt := ld.Tokenizer.Encode("Once upon a time there was a little girl", true, false)
	st := model.NewState(m.Config(), 2, 64, tensor.F32)
	st.Probe = nopProbe{}
	tokens := append(append([]int(nil), prompt...), prompt...)
	if _, err := m.Forward(st, tokens, len(prompt), []int{len(prompt), len(prompt) - 3}, true); err != nil {
		t.Fatal(err)
	}
	step := []int{prompt[1], prompt[2]}
	lens := []int{1, 1}
	n := testing.AllocsPerRun(10, func() {
		if _, err := m.Forward(st, step, 1, lens, true); err != nil {
			t.Fatal(err)
		}
	})
	if n > 1 {
		t.Errorf("a decoding step allocates %v times, want only its logits", n)
	}
}
