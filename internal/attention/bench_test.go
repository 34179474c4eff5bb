package attention

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

// Benchmark shapes of issue 2: (batch, seq) with d_model 768 and 12 heads.
var benchShapes = []struct{ batch, seq int }{{1, 128}, {8, 128}, {1, 512}, {1, 2048}, {1, 4096}}

const benchDModel, benchHeads = 768, 12

func coreFlops(batch, heads, seq, d int, causal bool) float64 {
	f := 4 * float64(batch) * float64(heads) * float64(seq) * float64(seq) * float64(d)
	if causal {
		f /= 2
	}
	return f
}

func reportGFLOPS(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkAttention is the fused core (QKᵀ, online softmax, PV).
// Name: shape/causal/stats, so benchstat can compare stats=on with stats=off.
func BenchmarkAttention(b *testing.B) {
	e := NewEngine(kernels.DefaultPool())
	d := benchDModel / benchHeads
	for _, s := range benchShapes {
		rng := rand.New(rand.NewPCG(1, 2))
		n := s.batch * s.seq * benchDModel
		q := randn(rng, n, 1)
		k, v := tensor.FromF32(randn(rng, n, 1)), tensor.FromF32(randn(rng, n, 1))
		out := make([]float32, n)
		sh := Shape{Batch: s.batch, Heads: benchHeads, HeadDim: d, SeqQ: s.seq, SeqK: s.seq}
		for _, causal := range []bool{false, true} {
			for _, stats := range []bool{false, true} {
				b.Run(fmt.Sprintf("b%d_s%d/causal=%v/stats=%v", s.batch, s.seq, causal, stats), func(b *testing.B) {
					var st *Stats
					if stats {
						st = &Stats{}
					}
					o := &Options{Causal: causal}
					for b.Loop() {
						if err := e.Attend(sh, o, q, k, v, out, st); err != nil {
							b.Fatal(err)
						}
					}
					reportGFLOPS(b, coreFlops(s.batch, benchHeads, s.seq, d, causal))
				})
			}
		}
	}
}

// BenchmarkMHA is the whole block: projections, attention, output projection.
func BenchmarkMHA(b *testing.B) {
	e := NewEngine(kernels.DefaultPool())
	dm := benchDModel
	rng := rand.New(rand.NewPCG(3, 4))
	w := func() []float32 { return randn(rng, dm*dm, 1/float32(dm)) }
	m := &MHA{DModel: dm, Heads: benchHeads, Wq: w(), Wk: w(), Wv: w(), Wo: w(),
		Bq: randn(rng, dm, 0.1), Bk: randn(rng, dm, 0.1), Bv: randn(rng, dm, 0.1), Bo: randn(rng, dm, 0.1)}
	m.StoreWeights(tensor.F32) // packed, as every model load keeps its weights
	for _, s := range benchShapes {
		x := randn(rng, s.batch*s.seq*dm, 1)
		for _, causal := range []bool{false, true} {
			for _, stats := range []bool{false, true} {
				b.Run(fmt.Sprintf("b%d_s%d/causal=%v/stats=%v", s.batch, s.seq, causal, stats), func(b *testing.B) {
					in := &Input{X: x, Batch: s.batch, SeqQ: s.seq, Opts: Options{Causal: causal}}
					if stats {
						in.Stats = &Stats{}
					}
					for b.Loop() {
						if _, err := m.Forward(e, in); err != nil {
							b.Fatal(err)
						}
					}
					f := coreFlops(s.batch, benchHeads, s.seq, dm/benchHeads, causal) + 8*float64(s.batch*s.seq)*float64(dm*dm)
					reportGFLOPS(b, f)
				})
			}
		}
	}
}

// BenchmarkAttentionMemory shows that the fused kernel's extra memory grows
// linearly with sequence length: B/op (everything the call allocates —
// scratch, statistics) is reported with bytes per query position, which stays
// flat from 1k to 16k. One head of width 64 keeps the run short; the scratch
// is per worker, not per head, and statistics are O(batch·heads·seq).
func BenchmarkAttentionMemory(b *testing.B) {
	e := NewEngine(kernels.DefaultPool())
	for _, seq := range []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10} {
		rng := rand.New(rand.NewPCG(5, 6))
		const d = 64
		q := randn(rng, seq*d, 1)
		k, v := tensor.FromF32(randn(rng, seq*d, 1)), tensor.FromF32(randn(rng, seq*d, 1))
		out := make([]float32, seq*d)
		sh := Shape{Batch: 1, Heads: 1, HeadDim: d, SeqQ: seq, SeqK: seq}
		b.Run(fmt.Sprintf("seq=%d", seq), func(b *testing.B) {
			b.ReportAllocs()
			st := &Stats{}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if err := e.Attend(sh, &Options{Causal: true}, q, k, v, out, st); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			bytes := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
			b.ReportMetric(bytes/float64(seq), "B/position")
			reportGFLOPS(b, coreFlops(1, 1, seq, d, true))
		})
	}
}

// BenchmarkAttendDecode is one decoding step of a small model (stories260K:
// 8 heads of dimension 8 over 4 KV heads) at 64 cached positions, with and
// without statistics: the fixed per-row cost of the statistics (entropy's
// log, output norm, counts) against attention work that is itself small.
func BenchmarkAttendDecode(b *testing.B) {
	e := NewEngine(kernels.DefaultPool())
	const heads, kvHeads, d, seqK = 8, 4, 8, 64
	rng := rand.New(rand.NewPCG(7, 8))
	q := randn(rng, heads*d, 1)
	k, v := tensor.FromF32(randn(rng, seqK*kvHeads*d, 1)), tensor.FromF32(randn(rng, seqK*kvHeads*d, 1))
	out := make([]float32, heads*d)
	sh := Shape{Batch: 1, Heads: heads, KVHeads: kvHeads, HeadDim: d, SeqQ: 1, SeqK: seqK}
	for _, stats := range []bool{false, true} {
		b.Run(fmt.Sprintf("stats=%v", stats), func(b *testing.B) {
			var st *Stats
			if stats {
				st = &Stats{}
			}
			for b.Loop() {
				if err := e.Attend(sh, &Options{}, q, k, v, out, st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
