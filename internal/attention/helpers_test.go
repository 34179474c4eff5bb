package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

func newTestEngine(threads int) *Engine {
	return NewEngine(kernels.NewPool(threads).WithSerialWork(0))
}

func randn(rng *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * scale
	}
	return x
}

// call is one attention call with its inputs.
type call struct {
	sh      Shape
	o       *Options
	q, k, v []float32
	dtype   tensor.DType
}

func (c *call) stores() (tensor.Store, tensor.Store) {
	return tensor.Convert(c.dtype, c.k), tensor.Convert(c.dtype, c.v)
}

func (c *call) fused(t testing.TB, e *Engine, st *Stats) []float32 {
	t.Helper()
	k, v := c.stores()
	out := make([]float32, c.sh.Batch*c.sh.SeqQ*c.sh.Heads*c.sh.HeadDim)
	if err := e.Attend(c.sh, c.o, c.q, k, v, out, st); err != nil {
		t.Fatal(err)
	}
	return out
}

func (c *call) reference(t testing.TB) (out, w []float32) {
	t.Helper()
	k, v := c.stores()
	out, w, err := Reference(c.sh, c.o, c.q, k, v)
	if err != nil {
		t.Fatal(err)
	}
	return out, w
}

// randomCall draws a shape and a mix of options from r (fuzz bytes or a
// seeded generator): sizes are odd and cross tile boundaries.
func randomCall(r func(n int) int, rng *rand.Rand) *call {
	kv := []int{1, 2, 3}[r(3)]
	group := 1 + r(3)
	sh := Shape{Batch: 1 + r(3), KVHeads: kv, Heads: kv * group, HeadDim: 1 + r(20),
		SeqQ: 1 + r(70), SeqK: 1 + r(140)}
	o := &Options{Causal: r(2) == 0}
	if o.Causal && sh.SeqK > sh.SeqQ && r(2) == 0 {
		o.QOffset = sh.SeqK - sh.SeqQ // decode-style: queries at the end
	}
	if r(4) == 0 { // ragged batch: own offsets and key lengths per sequence
		o.QOffsets = make([]int, sh.Batch)
		o.KeyLens = make([]int, sh.Batch)
		for b := range sh.Batch {
			o.QOffsets[b] = r(sh.SeqK + 1)
			o.KeyLens[b] = r(sh.SeqK + 1)
		}
	}
	if r(3) == 0 {
		o.Window = &Window{Left: r(20) - 1, Right: r(20) - 1}
		if r(2) == 0 {
			o.Global = []int{r(sh.SeqK), r(sh.SeqK)}
		}
	}
	if r(3) == 0 {
		o.KeyPadding = make([]bool, sh.Batch*sh.SeqK)
		for i := range o.KeyPadding {
			o.KeyPadding[i] = r(4) == 0
		}
	}
	if r(4) == 0 {
		m := &BoolMask{Batch: []int{1, sh.Batch}[r(2)], Heads: []int{1, sh.Heads}[r(2)]}
		m.Data = make([]bool, m.Batch*m.Heads*sh.SeqQ*sh.SeqK)
		for i := range m.Data {
			m.Data[i] = r(3) == 0
		}
		o.Mask = m
	}
	if r(4) == 0 {
		b := &Bias{Batch: []int{1, sh.Batch}[r(2)], Heads: []int{1, sh.Heads}[r(2)]}
		b.Data = randn(rng, b.Batch*b.Heads*sh.SeqQ*sh.SeqK, 1)
		for i := range b.Data {
			if r(10) == 0 {
				b.Data[i] = float32(math.Inf(-1))
			}
		}
		o.Bias = b
	}
	if r(4) == 0 {
		o.ALiBi = ALiBiSlopes(sh.Heads)
	}
	if r(5) == 0 {
		o.HeadMask = make([]bool, sh.Heads)
		for i := range o.HeadMask {
			o.HeadMask[i] = r(2) == 0
		}
	}
	c := &call{sh: sh, o: o, dtype: []tensor.DType{tensor.F32, tensor.F32, tensor.F16, tensor.BF16}[r(4)]}
	c.q = randn(rng, sh.Batch*sh.SeqQ*sh.Heads*sh.HeadDim, 1)
	c.k = randn(rng, sh.Batch*sh.SeqK*sh.KVHeads*sh.HeadDim, 1)
	c.v = randn(rng, sh.Batch*sh.SeqK*sh.KVHeads*sh.HeadDim, 1)
	return c
}

func seededCall(seed uint64) *call {
	rng := rand.New(rand.NewPCG(seed, 7))
	return randomCall(func(n int) int { return rng.IntN(n) }, rng)
}

func hasNaN(x []float32) bool {
	for _, v := range x {
		if v != v || math.IsInf(float64(v), 0) {
			return true
		}
	}
	return false
}
