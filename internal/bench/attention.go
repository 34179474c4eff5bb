// Package bench measures Headlight's kernels and blocks for the `headlight
// bench` command: medians over repeated runs, GFLOP/s as FlashAttention's
// papers count them.
package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

// Case is one attention benchmark configuration.
type Case struct {
	Op      string `json:"op"` // "attention" (fused core) or "mha" (block with projections)
	Batch   int    `json:"batch"`
	Seq     int    `json:"seq"`
	DModel  int    `json:"d_model"`
	Heads   int    `json:"heads"`
	Causal  bool   `json:"causal"`
	Stats   bool   `json:"stats"`
	Threads int    `json:"threads"`
}

// Result is a Case with its timing: Ms is the median wall time of one call.
type Result struct {
	Case
	Ms     float64 `json:"ms"`
	GFLOPS float64 `json:"gflops"`
	Reps   int     `json:"reps"`
	MinMs  float64 `json:"min_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Flops counts as FlashAttention does: 4·b·h·s·s·d for QKᵀ and PV (half
// under a causal mask), plus 8·b·s·d_model² for the four projections of mha.
func (c Case) Flops() float64 {
	d := float64(c.DModel / c.Heads)
	core := 4 * float64(c.Batch) * float64(c.Heads) * float64(c.Seq) * float64(c.Seq) * d
	if c.Causal {
		core /= 2
	}
	if c.Op == "mha" {
		core += 8 * float64(c.Batch) * float64(c.Seq) * float64(c.DModel) * float64(c.DModel)
	}
	return core
}

// Options bound how long one case is measured.
type Options struct {
	MinReps int           // at least this many timed runs (default 3)
	MaxReps int           // at most this many (default 10,000)
	MinTime time.Duration // keep running until this much time has passed (default 1s)
	// Warmup is how long untimed calls run first (default WarmupTime; at
	// least one call): after the machine idled, the first 300–400 ms of
	// work ran at a third to three quarters of the steady speed here (the
	// same 72×768×768 product, 100 ms blocks in one fresh process: 126,
	// 127, 130, 174, then 438 GFLOP/s on 2 threads), which a single
	// warm-up call did not cover.
	Warmup time.Duration
}

// WarmupTime is the default Options.Warmup; bench/peers warms PyTorch and
// its sgemm tool for as long.
const WarmupTime = 500 * time.Millisecond

func (o Options) withDefaults() Options {
	if o.MinReps <= 0 {
		o.MinReps = 3
	}
	if o.MaxReps < o.MinReps {
		o.MaxReps = max(10000, o.MinReps)
	}
	if o.MinTime <= 0 {
		o.MinTime = time.Second
	}
	if o.Warmup <= 0 {
		o.Warmup = WarmupTime
	}
	return o
}

// RunAttention measures one case: untimed calls for opt.Warmup, then timed
// calls.
func RunAttention(c Case, opt Options) (Result, error) {
	opt = opt.withDefaults()
	if c.Heads < 1 || c.DModel%c.Heads != 0 {
		return Result{}, fmt.Errorf("bench: d_model %d is not a multiple of heads %d", c.DModel, c.Heads)
	}
	pool := kernels.NewPool(c.Threads)
	defer pool.Close()
	c.Threads = pool.Threads()
	e := attention.NewEngine(pool)
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int, s float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()) * s
		}
		return x
	}
	n := c.Batch * c.Seq * c.DModel
	var st *attention.Stats
	if c.Stats {
		st = &attention.Stats{}
	}
	var call func() error
	switch c.Op {
	case "attention":
		sh := attention.Shape{Batch: c.Batch, Heads: c.Heads, HeadDim: c.DModel / c.Heads, SeqQ: c.Seq, SeqK: c.Seq}
		q, k, v := fill(n, 1), tensor.FromF32(fill(n, 1)), tensor.FromF32(fill(n, 1))
		out := make([]float32, n)
		o := &attention.Options{Causal: c.Causal}
		call = func() error { return e.Attend(sh, o, q, k, v, out, st) }
	case "mha":
		d := c.DModel
		w := float32(1 / float64(d))
		m := &attention.MHA{DModel: d, Heads: c.Heads,
			Wq: fill(d*d, w), Bq: fill(d, w), Wk: fill(d*d, w), Bk: fill(d, w),
			Wv: fill(d*d, w), Bv: fill(d, w), Wo: fill(d*d, w), Bo: fill(d, w)}
		m.StoreWeights(tensor.F32) // packed, as every model load keeps its weights
		in := &attention.Input{X: fill(n, 1), Batch: c.Batch, SeqQ: c.Seq, Stats: st}
		in.Opts.Causal = c.Causal
		call = func() error { _, err := m.Forward(e, in); return err }
	default:
		return Result{}, fmt.Errorf("bench: unknown op %q (want attention or mha)", c.Op)
	}
	for warm := time.Now(); ; { // warm-up: at least one call
		if err := call(); err != nil {
			return Result{}, err
		}
		if time.Since(warm) >= opt.Warmup {
			break
		}
	}
	var times []float64
	start := time.Now()
	for len(times) < opt.MinReps || (time.Since(start) < opt.MinTime && len(times) < opt.MaxReps) {
		t0 := time.Now()
		if err := call(); err != nil {
			return Result{}, err
		}
		times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	slices.Sort(times)
	med := times[len(times)/2]
	if len(times)%2 == 0 {
		med = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	return Result{Case: c, Ms: med, GFLOPS: c.Flops() / (med / 1e3) / 1e9, Reps: len(times),
		MinMs: times[0], MaxMs: times[len(times)-1]}, nil
}
