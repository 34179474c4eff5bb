package attention

import (
	"testing"

	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/testutil"
)

// TestDecodeStepAllocatesNothing: a decoding step's attention call (one
// query row per sequence, small enough to run on the caller) takes its plan,
// partials and scratch from pools and allocates nothing once warm, with
// statistics on — the serving loop must not feed the garbage collector.
func TestDecodeStepAllocatesNothing(t *testing.T) {
	if testutil.Race {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	pool := kernels.NewPool(2)
	defer pool.Close()
	e := NewEngine(pool)
	for _, d := range []int{8, 64} { // the row path and the tiled path
		sh := Shape{Batch: 2, Heads: 8, KVHeads: 4, HeadDim: d, SeqQ: 1, SeqK: 37, KVCap: 37}
		q := make([]float32, sh.QLen())
		k := tensor.FromF32(make([]float32, sh.KVLen()))
		v := tensor.FromF32(make([]float32, sh.KVLen()))
		out := make([]float32, sh.QLen())
		var st Stats
		o := &Options{Causal: true, QOffsets: []int{36, 20}, KeyLens: []int{37, 21}}
		if n := testing.AllocsPerRun(20, func() {
			if err := e.Attend(sh, o, q, k, v, out, &st); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("head dim %d: %v allocations per decoding call", d, n)
		}
	}
}
