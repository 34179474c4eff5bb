package attention

import (
	"fmt"

	"github.com/headlight/headlight/internal/tensor"
)

// MHA is a multi-head attention block with its projections, in PyTorch's
// convention y = x·Wᵀ + b (weights are (out, in) row-major):
//
//	Q = Xq·Wqᵀ + bq, K = Xk·Wkᵀ + bk, V = Xv·Wvᵀ + bv
//	O = concat_h attention_h(Q, K, V) · Woᵀ + bo
type MHA struct {
	DModel  int // width of the query input and of the output
	KDim    int // width of the key input (cross-attention memory); 0 = DModel
	VDim    int // width of the value input; 0 = DModel
	Heads   int
	KVHeads int // 0 = Heads
	HeadDim int // 0 = DModel/Heads

	Wq []float32 // (heads·headDim, dModel)
	Bq []float32 // (heads·headDim) or nil
	Wk []float32 // (kvHeads·headDim, kDim)
	Bk []float32 // (kvHeads·headDim) or nil
	Wv []float32 // (kvHeads·headDim, vDim)
	Bv []float32 // (kvHeads·headDim) or nil
	Wo []float32 // (dModel, heads·headDim)
	Bo []float32 // (dModel) or nil

	// RoPE, when set, rotates Q and K after projection.
	RoPE *RoPE

	// Stored, when set, holds Wq, Wk, Wv and Wo instead of the float32
	// fields above (then nil), e.g. in bfloat16 to halve the bytes a
	// decoding step streams; the products accumulate in float32
	// (tensor.MatMulTransB). See StoreWeights.
	Stored *MHAWeights
}

// MHAWeights are an MHA block's projection weights in any tensor.DType,
// with the shapes of MHA's float32 fields.
type MHAWeights struct {
	Wq, Wk, Wv, Wo tensor.Store
}

// StoreWeights keeps the projection weights in d (tensor.StoreWeight):
// float32 packed for kernels.MatMulPanels, half precision rounded once (to
// nearest even); weights already stored are converted. The float32 fields
// are dropped; the biases stay float32. A block whose weights do not have
// the shapes of its configuration is left as it is (Forward reports it).
func (m *MHA) StoreWeights(d tensor.DType) {
	if m.Check() != nil {
		return
	}
	qd, kvd := m.Heads*m.HeadDim, m.KVHeads*m.HeadDim
	ws := m.Weights()
	m.Stored = &MHAWeights{
		Wq: tensor.StoreWeight(d, ws.Wq, qd, m.DModel), Wk: tensor.StoreWeight(d, ws.Wk, kvd, m.KDim),
		Wv: tensor.StoreWeight(d, ws.Wv, kvd, m.VDim), Wo: tensor.StoreWeight(d, ws.Wo, m.DModel, qd),
	}
	m.Wq, m.Wk, m.Wv, m.Wo = nil, nil, nil, nil
}

// Weights returns the projection weights as Stores: Stored, or the float32
// fields wrapped when Stored is nil.
func (m *MHA) Weights() MHAWeights {
	if m.Stored != nil {
		return *m.Stored
	}
	return MHAWeights{Wq: tensor.FromF32(m.Wq), Wk: tensor.FromF32(m.Wk), Wv: tensor.FromF32(m.Wv), Wo: tensor.FromF32(m.Wo)}
}

// Input is one call of an MHA block.
type Input struct {
	X     []float32 // (batch, seqQ, dModel) queries (and keys/values for self-attention)
	Batch int
	SeqQ  int
	// Key and Value are the memory for cross-attention, (batch, seqK, kDim)
	// and (batch, seqK, vDim). Both nil means self-attention.
	Key, Value []float32
	SeqK       int
	// Cache (self-attention only): the new keys and values are appended and
	// the queries attend to every cached position. Sequence b's queries are
	// then at positions Cache.Lens[b], Cache.Lens[b]+1, … and Opts.QOffsets
	// and Opts.KeyLens are set for you.
	Cache *KVCache
	// SeqLens (batch), when set, says how many of the SeqQ tokens of each
	// sequence are real (right padding); outputs of padding rows are
	// meaningless. Self-attention only.
	SeqLens []int
	// Pos0 is the position of X's first token for RoPE when there is no
	// cache.
	Pos0 int
	// Opts are the masks and variants; see Options.
	Opts Options
	// Stats, when non-nil, receives the per-head statistics.
	Stats *Stats
	// MapHeads asks for the attention maps of these (batch, head) pairs;
	// Forward fills Maps with one (seqQ, seqK) matrix each, computed by the
	// explicit path. Leave it empty in the hot path.
	MapHeads []HeadRef
	Maps     [][]float32
	// Arena, when set, lends the projections and the output (valid until
	// its next Reset); nil allocates them.
	Arena *tensor.Arena
}

// Check validates the block's configuration and weight sizes.
func (m *MHA) Check() error {
	m.defaults()
	d := m.HeadDim
	switch {
	case m.DModel < 1 || m.Heads < 1 || d < 1:
		return fmt.Errorf("%w: MHA needs positive d_model, heads and head dim (got %d, %d, %d)", ErrShape, m.DModel, m.Heads, d)
	case m.Heads%m.KVHeads != 0:
		return fmt.Errorf("%w: MHA kv heads %d must divide heads %d", ErrShape, m.KVHeads, m.Heads)
	case m.RoPE != nil && m.RoPE.HeadDim != d:
		return fmt.Errorf("%w: RoPE head dim %d ≠ head dim %d", ErrShape, m.RoPE.HeadDim, d)
	}
	qd, kvd := m.Heads*d, m.KVHeads*d
	ws := m.Weights()
	for _, w := range []struct {
		name string
		x    tensor.Store
		n    int
		opt  bool
	}{
		{"Wq", ws.Wq, qd * m.DModel, false}, {"Bq", tensor.FromF32(m.Bq), qd, true},
		{"Wk", ws.Wk, kvd * m.KDim, false}, {"Bk", tensor.FromF32(m.Bk), kvd, true},
		{"Wv", ws.Wv, kvd * m.VDim, false}, {"Bv", tensor.FromF32(m.Bv), kvd, true},
		{"Wo", ws.Wo, m.DModel * qd, false}, {"Bo", tensor.FromF32(m.Bo), m.DModel, true},
	} {
		if n := w.x.Len(); (n == 0 && !w.opt) || (n != 0 && n != w.n) {
			return fmt.Errorf("%w: MHA %s has %d values, want %d", ErrShape, w.name, n, w.n)
		}
	}
	return nil
}

func (m *MHA) defaults() {
	if m.KDim == 0 {
		m.KDim = m.DModel
	}
	if m.VDim == 0 {
		m.VDim = m.DModel
	}
	if m.KVHeads == 0 {
		m.KVHeads = m.Heads
	}
	if m.HeadDim == 0 && m.Heads > 0 {
		m.HeadDim = m.DModel / m.Heads
	}
}

// Forward runs the block and returns (batch, seqQ, dModel).
func (m *MHA) Forward(e *Engine, in *Input) ([]float32, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	B, Sq := in.Batch, in.SeqQ
	if B < 1 || Sq < 1 || len(in.X) != B*Sq*m.DModel {
		return nil, fmt.Errorf("%w: X has %d values, want batch %d × seq %d × d_model %d", ErrShape, len(in.X), B, Sq, m.DModel)
	}
	self := in.Key == nil && in.Value == nil
	d := m.HeadDim
	qd, kvd := m.Heads*d, m.KVHeads*d
	pool := e.pool
	ws := m.Weights()

	ar := in.Arena
	q := ar.Floats(B * Sq * qd) // (batch, seqQ, heads·headDim)

	Sk := in.SeqK
	var kx, vx []float32 // key and value inputs
	if self {
		Sk, kx, vx = Sq, in.X, in.X
	} else {
		if in.Cache != nil {
			return nil, fmt.Errorf("%w: a KV cache is for self-attention; cross-attention memory is projected once", ErrShape)
		}
		if Sk < 1 || len(in.Key) != B*Sk*m.KDim || len(in.Value) != B*Sk*m.VDim {
			return nil, fmt.Errorf("%w: key/value have %d/%d values, want batch %d × seqK %d × %d/%d", ErrShape, len(in.Key), len(in.Value), B, Sk, m.KDim, m.VDim)
		}
		kx, vx = in.Key, in.Value
	}
	k := ar.Floats(B * Sk * kvd) // (batch, seqK, kvHeads·headDim)
	v := ar.Floats(B * Sk * kvd) // (batch, seqK, kvHeads·headDim)
	// Self-attention: q, k and v from the same input, as one pool job.
	if self {
		tensor.MatMulTransBShared(pool, in.X, B*Sq, m.DModel,
			tensor.Linear{C: q, W: ws.Wq, Bias: m.Bq, N: qd},
			tensor.Linear{C: k, W: ws.Wk, Bias: m.Bk, N: kvd},
			tensor.Linear{C: v, W: ws.Wv, Bias: m.Bv, N: kvd})
	} else {
		tensor.MatMulTransB(pool, q, in.X, ws.Wq, m.Bq, B*Sq, qd, m.DModel)
		tensor.MatMulTransB(pool, k, kx, ws.Wk, m.Bk, B*Sk, kvd, m.KDim)
		tensor.MatMulTransB(pool, v, vx, ws.Wv, m.Bv, B*Sk, kvd, m.VDim)
	}

	opts := in.Opts
	if in.SeqLens != nil {
		if !self || len(in.SeqLens) != B {
			return nil, fmt.Errorf("%w: SeqLens needs self-attention and one length per sequence (%d for batch %d)", ErrShape, len(in.SeqLens), B)
		}
		if in.Cache == nil {
			opts.KeyLens = in.SeqLens
		}
	}
	pos0 := ar.Ints(B) // (batch) position of each sequence's first new token
	for b := range pos0 {
		pos0[b] = in.Pos0
	}
	c := in.Cache
	if c != nil {
		if c.Batch != B || c.KVHeads != m.KVHeads || c.HeadDim != d {
			return nil, fmt.Errorf("%w: cache is batch %d × %d kv heads × %d, block needs %d × %d × %d", ErrShape, c.Batch, c.KVHeads, c.HeadDim, B, m.KVHeads, d)
		}
		copy(pos0, c.Lens)
		opts.QOffsets = pos0
	}
	if m.RoPE != nil {
		pos := batchPositions(ar.Ints(B*Sq), pos0, Sq) // (batch·seqQ)
		m.RoPE.Apply(q, m.Heads, pos)
		if self {
			m.RoPE.Apply(k, m.KVHeads, pos)
		}
	}

	sh := Shape{Batch: B, Heads: m.Heads, KVHeads: m.KVHeads, HeadDim: d, SeqQ: Sq, SeqK: Sk}
	ks, vs := tensor.FromF32(k), tensor.FromF32(v)
	if c != nil {
		if err := opts.check(Shape{Batch: B, Heads: m.Heads, KVHeads: m.KVHeads, HeadDim: d, SeqQ: Sq, SeqK: c.MaxSeq}); err != nil {
			return nil, err // before the cache changes
		}
		if err := c.Append(k, v, Sq, in.SeqLens); err != nil {
			return nil, err
		}
		sh.SeqK, sh.KVCap = c.MaxLen(), c.MaxSeq
		opts.KeyLens = c.Lens
		ks, vs = c.K, c.V
	}
	att := ar.Floats(B * Sq * qd) // (batch, seqQ, heads·headDim)
	if err := e.Attend(sh, &opts, q, ks, vs, att, in.Stats); err != nil {
		return nil, err
	}
	in.Maps = nil
	if len(in.MapHeads) > 0 {
		maps, err := Maps(sh, &opts, q, ks, vs, in.MapHeads)
		if err != nil {
			return nil, err
		}
		in.Maps = maps
	}
	out := ar.Floats(B * Sq * m.DModel) // (batch, seqQ, dModel)
	tensor.MatMulTransB(pool, out, att, ws.Wo, m.Bo, B*Sq, m.DModel, qd)
	return out, nil
}

// batchPositions writes pos0[b]…pos0[b]+seq-1 for each sequence b in turn
// to p (len(pos0)·seq) and returns it.
func batchPositions(p, pos0 []int, seq int) []int {
	for b, p0 := range pos0 {
		for i := range seq {
			p[b*seq+i] = p0 + i
		}
	}
	return p
}
