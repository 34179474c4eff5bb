package bert

import (
	"fmt"
	"math"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
)

// EncodeInput is one right-padded batch of token sequences.
type EncodeInput struct {
	Tokens     []int // (batch, seq) token ids, right-padded
	TypeIDs    []int // (batch, seq) segment ids; nil = all 0
	Batch, Seq int
	Lens       []int // (batch) real tokens per sequence, 1…seq; nil = all seq
	Probe      attention.Probe
	Capture    func(layer int) []attention.HeadRef // heads whose attention maps layer l should return
	OnMaps     func(layer int, heads []attention.HeadRef, maps [][]float32)
}

// check validates the input against the model.
func (m *Model) check(in *EncodeInput) error {
	c := &m.cfg
	B, S := in.Batch, in.Seq
	switch {
	case B < 1 || S < 1 || len(in.Tokens) != B*S:
		return fmt.Errorf("bert: %d tokens for batch %d × seq %d", len(in.Tokens), B, S)
	case S > c.MaxSeq:
		return fmt.Errorf("bert: sequence of %d tokens exceeds the model's %d positions", S, c.MaxSeq)
	case in.TypeIDs != nil && len(in.TypeIDs) != B*S:
		return fmt.Errorf("bert: %d token types for batch %d × seq %d", len(in.TypeIDs), B, S)
	case in.Lens != nil && len(in.Lens) != B:
		return fmt.Errorf("bert: %d lengths for batch %d", len(in.Lens), B)
	}
	for _, n := range in.Lens {
		if n < 1 || n > S {
			return fmt.Errorf("bert: sequence length %d outside 1…%d", n, S)
		}
	}
	for _, t := range in.TypeIDs {
		if t < 0 || t >= m.TypeVocab {
			return fmt.Errorf("bert: token type %d outside 0…%d", t, m.TypeVocab-1)
		}
	}
	return nil
}

// Encode runs a batch through the encoder. It returns the last hidden state
// (batch, seq, dim) — rows past a sequence's length are computed as Hugging
// Face does (they attend to the real tokens) but are not meaningful — and
// the pooler output tanh(pooler.dense(h[:, 0])) (batch, dim), or nil when
// the checkpoint has no pooler.
func (m *Model) Encode(in EncodeInput) (hidden, pooled []float32, err error) {
	if err := m.check(&in); err != nil {
		return nil, nil, err
	}
	c := &m.cfg
	B, S, d := in.Batch, in.Seq, c.Dim
	n := B * S
	pool := m.eng.Pool()

	// Embeddings: word + token type, + position, then LayerNorm.
	x := make([]float32, n*d) // (batch·seq, dim) residual stream
	if err := nn.Embed(x, m.Word, d, in.Tokens); err != nil {
		return nil, nil, fmt.Errorf("bert: %w", err)
	}
	pos := make([]int, n) // (batch·seq) position ids 0…seq-1
	for i := range pos {
		t := 0
		if in.TypeIDs != nil {
			t = in.TypeIDs[i]
		}
		nn.Add(x[i*d:(i+1)*d], m.Type[t*d:(t+1)*d])
		pos[i] = i % S
	}
	if err := attention.AddPositions(x, m.Pos, d, pos); err != nil {
		return nil, nil, fmt.Errorf("bert: %w", err)
	}
	nn.LayerNorm(x, x, m.EmbLNW, m.EmbLNB, c.NormEps)

	var stats *attention.Stats // where the engine writes each layer's statistics, for the probe
	if in.Probe != nil {
		stats = new(attention.Stats)
	}
	a := make([]float32, n*d)           // (batch·seq, dim) attention block output
	g := make([]float32, n*c.HiddenDim) // (batch·seq, intermediate) FFN activations
	for l := range m.Layers {
		L := &m.Layers[l]
		// Attention: QKV → bidirectional attention over real keys → output dense → +residual → LayerNorm.
		ai := &attention.Input{X: x, Batch: B, SeqQ: S, SeqLens: in.Lens, Stats: stats,
			MapHeads: in.mapHeads(l)}
		o, err := L.Attn.Forward(m.eng, ai) // (batch·seq, dim)
		if err != nil {
			return nil, nil, fmt.Errorf("bert: layer %d: %w", l, err)
		}
		if in.Probe != nil {
			in.Probe.ObserveAttention(l, ai.Stats)
		}
		if ai.Maps != nil && in.OnMaps != nil {
			in.OnMaps(l, ai.MapHeads, ai.Maps)
		}
		nn.Add(o, x)
		nn.LayerNorm(a, o, L.LN1W, L.LN1B, c.NormEps)
		// Feed-forward: intermediate dense → GELU → output dense → +residual → LayerNorm.
		fw := L.ffn()
		tensor.MatMulTransB(pool, g, a, fw.I, L.BI, n, c.HiddenDim, d)
		m.act(g)
		tensor.MatMulTransB(pool, x, g, fw.O, L.BO, n, d, c.HiddenDim)
		nn.Add(x, a)
		nn.LayerNorm(x, x, L.LN2W, L.LN2B, c.NormEps)
	}
	if m.PoolW == nil {
		return x, nil, nil
	}
	// Pooler: tanh(dense(h[:, 0])).
	first := make([]float32, B*d) // (batch, dim) the [CLS] rows
	for b := 0; b < B; b++ {
		copy(first[b*d:(b+1)*d], x[b*S*d:])
	}
	pooled = make([]float32, B*d) // (batch, dim)
	kernels.MatMulTransB(pool, pooled, first, m.PoolW, m.PoolB, B, d, d)
	for i, v := range pooled {
		pooled[i] = float32(math.Tanh(float64(v)))
	}
	return x, pooled, nil
}

// mapHeads is what Capture asks of layer l.
func (in *EncodeInput) mapHeads(l int) []attention.HeadRef {
	if in.Capture == nil {
		return nil
	}
	return in.Capture(l)
}
