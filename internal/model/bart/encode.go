package bart

import (
	"fmt"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/nn"
)

// EncodeInput is one right-padded batch of source sequences.
type EncodeInput struct {
	Tokens     []int // (batch, seq) token ids, right-padded (usually with <pad>)
	Batch, Seq int
	Lens       []int           // (batch) real tokens per sequence, 1…seq; nil = all seq
	Probe      attention.Probe // receives encoder layer l's self-attention statistics as layer l
}

// EncodeMemory runs the encoder: it returns the encoder's last hidden state
// (batch, seq, dim), the memory the decoder attends to. Rows past a
// sequence's length are computed as Hugging Face does but never reach the
// decoder (NewState hides them from cross-attention).
func (m *Model) EncodeMemory(tokens []int, batch, seq int, lens []int) ([]float32, error) {
	return m.Encode(EncodeInput{Tokens: tokens, Batch: batch, Seq: seq, Lens: lens})
}

// embed writes shared[ids]·scale + pos[positions + 2] into x (rows, dim) and
// applies the layernorm_embedding (w, b).
func (m *Model) embed(x []float32, tokens, positions []int, pos, w, b []float32) error {
	d := m.cfg.Dim
	if err := nn.Embed(x, m.Shared, d, tokens); err != nil {
		return fmt.Errorf("bart: %w", err)
	}
	if m.embedScale != 1 {
		for i := range x {
			x[i] *= m.embedScale
		}
	}
	if err := attention.AddPositions(x, pos, d, positions); err != nil {
		return fmt.Errorf("bart: %w", err)
	}
	nn.LayerNorm(x, x, w, b, normEps)
	return nil
}

// checkLens validates right-padding lengths (nil is fine).
func checkLens(lens []int, batch, seq int) error {
	if lens != nil && len(lens) != batch {
		return fmt.Errorf("bart: %d lengths for batch %d", len(lens), batch)
	}
	for _, n := range lens {
		if n < 1 || n > seq {
			return fmt.Errorf("bart: sequence length %d outside 1…%d", n, seq)
		}
	}
	return nil
}

// ffn is the feed-forward sub-block with its residual and LayerNorm:
// x = LN(x + fc2(act(fc1(x)))). g is (rows, ffn) scratch, f (rows, dim).
func (m *Model) ffn(x, g, f, w1, b1, w2, b2, lnw, lnb []float32, rows, ffn int) {
	pool, d := m.eng.Pool(), m.cfg.Dim
	kernels.MatMulTransB(pool, g, x, w1, b1, rows, ffn, d)
	m.act(g)
	kernels.MatMulTransB(pool, f, g, w2, b2, rows, d, ffn)
	nn.Add(x, f)
	nn.LayerNorm(x, x, lnw, lnb, normEps)
}

// Encode is EncodeMemory with a probe.
func (m *Model) Encode(in EncodeInput) ([]float32, error) {
	c := &m.cfg
	B, S, d := in.Batch, in.Seq, c.Dim
	switch {
	case B < 1 || S < 1 || len(in.Tokens) != B*S:
		return nil, fmt.Errorf("bart: %d tokens for batch %d × seq %d", len(in.Tokens), B, S)
	case S > c.MaxPos:
		return nil, fmt.Errorf("bart: source of %d tokens exceeds the model's %d positions", S, c.MaxPos)
	}
	if err := checkLens(in.Lens, B, S); err != nil {
		return nil, err
	}
	n := B * S
	// Embeddings: shared[ids]·scale + positions (offset 2) → layernorm_embedding.
	x := make([]float32, n*d) // (batch·seq, dim) residual stream
	pos := make([]int, n)     // (batch·seq) table rows p+2
	for i := range pos {
		pos[i] = i%S + posOffset
	}
	if err := m.embed(x, in.Tokens, pos, m.EncPos, m.EncLNW, m.EncLNB); err != nil {
		return nil, err
	}
	var stats *attention.Stats // where the engine writes each layer's statistics, for the probe
	if in.Probe != nil {
		stats = new(attention.Stats)
	}
	g := make([]float32, n*c.EncFFN) // (batch·seq, ffn) activations
	f := make([]float32, n*d)        // (batch·seq, dim) FFN output
	for l := range m.Enc {
		L := &m.Enc[l]
		// Self-attention over real keys → +residual → LayerNorm.
		ai := &attention.Input{X: x, Batch: B, SeqQ: S, SeqLens: in.Lens, Stats: stats}
		a, err := L.Attn.Forward(m.eng, ai) // (batch·seq, dim)
		if err != nil {
			return nil, fmt.Errorf("bart: encoder layer %d: %w", l, err)
		}
		if in.Probe != nil {
			in.Probe.ObserveAttention(l, ai.Stats)
		}
		nn.Add(x, a)
		nn.LayerNorm(x, x, L.LN1W, L.LN1B, normEps)
		// Feed-forward: fc1 → GELU → fc2 → +residual → LayerNorm.
		m.ffn(x, g, f, L.W1, L.B1, L.W2, L.B2, L.LN2W, L.LN2B, n, c.EncFFN)
	}
	return x, nil
}
