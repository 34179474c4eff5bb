package bart

import (
	"fmt"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
)

// State is one batch of target sequences being decoded against an encoded
// source batch: a self-attention KV cache per decoder layer, and each
// layer's cross-attention keys and values, projected from the encoder memory
// once.
type State struct {
	Batch  int
	Caches []*attention.KVCache // (decLayer) each (batch, maxSeq, heads·headDim)
	CrossK []tensor.Store       // (decLayer) each (batch, seqK, heads·headDim) encoder_attn k_proj(memory)
	CrossV []tensor.Store       // (decLayer) each (batch, seqK, heads·headDim) encoder_attn v_proj(memory)
	SeqK   int                  // source positions per sequence
	MemLen []int                // (batch) real source positions; cross-attention hides the rest
	// Probe, when set, receives decoder layer l's self-attention statistics
	// as layer l; CrossProbe its cross-attention statistics as layer l.
	Probe, CrossProbe attention.Probe
}

// Pos is the number of target positions already decoded.
func (s *State) Pos() int { return s.Caches[0].MaxLen() }

// NewState projects the encoder memory (batch, seqK, dim) for every decoder
// layer's cross-attention and allocates self-attention caches for up to
// maxSeq target positions (at most max_position_embeddings) stored as kv.
// lens (batch), as given to EncodeMemory, hides padded source positions.
func (m *Model) NewState(memory []float32, batch, seqK int, lens []int, maxSeq int, kv tensor.DType) (*State, error) {
	c := &m.cfg
	d := c.Dim
	if batch < 1 || seqK < 1 || len(memory) != batch*seqK*d {
		return nil, fmt.Errorf("bart: memory has %d values, want batch %d × seq %d × dim %d", len(memory), batch, seqK, d)
	}
	if maxSeq < 1 || maxSeq > c.MaxPos {
		return nil, fmt.Errorf("bart: %d target positions outside 1…%d", maxSeq, c.MaxPos)
	}
	if err := checkLens(lens, batch, seqK); err != nil {
		return nil, err
	}
	memLen := make([]int, batch)
	for b := range memLen {
		memLen[b] = seqK
		if lens != nil {
			memLen[b] = lens[b]
		}
	}
	s := &State{Batch: batch, SeqK: seqK, MemLen: memLen, Caches: make([]*attention.KVCache, len(m.Dec)),
		CrossK: make([]tensor.Store, len(m.Dec)), CrossV: make([]tensor.Store, len(m.Dec))}
	pool, hd := m.eng.Pool(), d/c.DecHeads
	for l := range m.Dec {
		L := &m.Dec[l].Cross
		s.Caches[l] = attention.NewKVCache(kv, batch, c.DecHeads, hd, maxSeq)
		k := make([]float32, batch*seqK*d) // (batch, seqK, heads·headDim)
		v := make([]float32, batch*seqK*d) // (batch, seqK, heads·headDim)
		kernels.MatMulTransB(pool, k, memory, L.Wk, L.Bk, batch*seqK, d, d)
		kernels.MatMulTransB(pool, v, memory, L.Wv, L.Bv, batch*seqK, d, d)
		s.CrossK[l], s.CrossV[l] = tensor.FromF32(k), tensor.FromF32(v)
	}
	return s, nil
}

// Decode feeds target tokens (batch, seq) at the state's next positions and
// returns logits (batch, seq, vocab) = h·sharedᵀ + final_logits_bias, or
// (batch, vocab) for the last position when lastOnly is set. Feeding a
// sequence at once or one token at a time gives the same logits.
func (m *Model) Decode(s *State, tokens []int, seq int, lastOnly bool) ([]float32, error) {
	c := &m.cfg
	B, d := s.Batch, c.Dim
	if seq < 1 || len(tokens) != B*seq {
		return nil, fmt.Errorf("bart: %d tokens for batch %d × seq %d", len(tokens), B, seq)
	}
	if len(s.Caches) != len(m.Dec) || len(s.CrossK) != len(m.Dec) || len(s.CrossV) != len(m.Dec) {
		return nil, fmt.Errorf("bart: state has %d caches for %d decoder layers", len(s.Caches), len(m.Dec))
	}
	if p := s.Pos(); p+seq > s.Caches[0].MaxSeq {
		return nil, fmt.Errorf("bart: %d target positions + %d new exceed the state's %d", p, seq, s.Caches[0].MaxSeq)
	}
	n := B * seq
	// Embeddings: shared[ids]·scale + positions (offset 2) → layernorm_embedding.
	x := make([]float32, n*d) // (batch·seq, dim) residual stream
	pos := make([]int, n)     // (batch·seq) table rows p+2
	for b := 0; b < B; b++ {
		for i := 0; i < seq; i++ {
			pos[b*seq+i] = s.Caches[0].Lens[b] + i + posOffset
		}
	}
	if err := m.embed(x, tokens, pos, m.DecPos, m.DecLNW, m.DecLNB); err != nil {
		return nil, err
	}
	var selfStats, crossStats *attention.Stats // for the probes
	if s.Probe != nil {
		selfStats = new(attention.Stats)
	}
	if s.CrossProbe != nil {
		crossStats = new(attention.Stats)
	}
	g := make([]float32, n*c.DecFFN) // (batch·seq, ffn) activations
	f := make([]float32, n*d)        // (batch·seq, dim) FFN output
	for l := range m.Dec {
		L := &m.Dec[l]
		// Causal self-attention through the KV cache → +residual → LayerNorm.
		ai := &attention.Input{X: x, Batch: B, SeqQ: seq, Cache: s.Caches[l],
			Opts: attention.Options{Causal: true}, Stats: selfStats}
		a, err := L.Self.Forward(m.eng, ai) // (batch·seq, dim)
		if err != nil {
			return nil, fmt.Errorf("bart: decoder layer %d: %w", l, err)
		}
		if s.Probe != nil {
			s.Probe.ObserveAttention(l, ai.Stats)
		}
		nn.Add(x, a)
		nn.LayerNorm(x, x, L.LN1W, L.LN1B, normEps)
		// Cross-attention to the real source positions → +residual → LayerNorm.
		a, err = m.cross(s, l, x, B, seq, crossStats)
		if err != nil {
			return nil, fmt.Errorf("bart: decoder layer %d cross-attention: %w", l, err)
		}
		if s.CrossProbe != nil {
			s.CrossProbe.ObserveAttention(l, crossStats)
		}
		nn.Add(x, a)
		nn.LayerNorm(x, x, L.LNXW, L.LNXB, normEps)
		// Feed-forward: fc1 → GELU → fc2 → +residual → LayerNorm.
		m.ffn(x, g, f, L.W1, L.B1, L.W2, L.B2, L.LN2W, L.LN2B, n, c.DecFFN)
	}
	if lastOnly {
		x, n = model.LastRows(nil, x, d, B, seq, nil), B
	}
	logits := make([]float32, n*c.VocabSize) // (rows, vocab)
	kernels.MatMulTransB(m.eng.Pool(), logits, x, m.LMHead, nil, n, c.VocabSize, d)
	for r := 0; r < n; r++ {
		nn.Add(logits[r*c.VocabSize:(r+1)*c.VocabSize], m.FinalBias)
	}
	return logits, nil
}

// cross is decoder layer l's encoder attention on x (batch·seq, dim) against
// the state's projected memory: q_proj → attention over the real source keys
// → out_proj. It returns (batch·seq, dim).
func (m *Model) cross(s *State, l int, x []float32, B, seq int, st *attention.Stats) ([]float32, error) {
	L, d, H := &m.Dec[l].Cross, m.cfg.Dim, m.cfg.DecHeads
	pool := m.eng.Pool()
	q := make([]float32, B*seq*d) // (batch, seq, heads·headDim)
	kernels.MatMulTransB(pool, q, x, L.Wq, L.Bq, B*seq, d, d)
	sh := attention.Shape{Batch: B, Heads: H, KVHeads: H, HeadDim: d / H, SeqQ: seq, SeqK: s.SeqK}
	opts := attention.Options{KeyLens: s.MemLen}
	att := make([]float32, B*seq*d) // (batch, seq, heads·headDim)
	if err := m.eng.Attend(sh, &opts, q, s.CrossK[l], s.CrossV[l], att, st); err != nil {
		return nil, err
	}
	out := make([]float32, B*seq*d) // (batch, seq, dim)
	kernels.MatMulTransB(pool, out, att, L.Wo, L.Bo, B*seq, d, d)
	return out, nil
}
