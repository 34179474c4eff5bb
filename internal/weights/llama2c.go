package weights

import (
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is wrapped by every error that reports bad checkpoint data
// (as opposed to I/O errors): test for it with errors.Is.
var ErrMalformed = errors.New("weights: malformed checkpoint")

// MaxLlama2CField caps every llama2.c header field (dim, hidden_dim, layers,
// heads, kv_heads, |vocab_size|, seq_len). Real models are far below it; the
// cap keeps a hostile header from describing absurd shapes.
const MaxLlama2CField = 1 << 20

// Llama2CConfig is the header of a llama2.c checkpoint.
type Llama2CConfig struct {
	Dim, HiddenDim, Layers, Heads, KVHeads, VocabSize, SeqLen int
	// SharedClassifier reports that the output classifier is the token
	// embedding matrix. Legacy files encode it as a positive vocab_size
	// (negative: a separate classifier follows the other tensors); version 1
	// files carry it as a flag byte.
	SharedClassifier bool
}

// HeadDim is the size of one attention head: Dim / Heads.
func (c Llama2CConfig) HeadDim() int { return c.Dim / c.Heads }

// KVDim is the width of the key and value projections:
// Dim · KVHeads / Heads = KVHeads · HeadDim.
func (c Llama2CConfig) KVDim() int { return c.KVHeads * c.HeadDim() }

// Validate checks that the header describes a well-formed model: every field
// in [1, MaxLlama2CField], Heads divides Dim, KVHeads divides Heads, and the
// head size is even (RoPE rotates pairs). VocabSize must be positive here;
// the sign convention of the legacy file format is handled by the parser.
func (c Llama2CConfig) Validate() error {
	fields := []struct {
		name string
		v    int
	}{
		{"dim", c.Dim}, {"hidden_dim", c.HiddenDim}, {"n_layers", c.Layers},
		{"n_heads", c.Heads}, {"n_kv_heads", c.KVHeads},
		{"vocab_size", c.VocabSize}, {"seq_len", c.SeqLen},
	}
	for _, f := range fields {
		if f.v <= 0 || f.v > MaxLlama2CField {
			return fmt.Errorf("%w: %s = %d, want 1..%d", ErrMalformed, f.name, f.v, MaxLlama2CField)
		}
	}
	switch {
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("%w: n_heads %d does not divide dim %d", ErrMalformed, c.Heads, c.Dim)
	case c.KVHeads > c.Heads || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: n_kv_heads %d does not divide n_heads %d", ErrMalformed, c.KVHeads, c.Heads)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("%w: head size %d (dim %d / n_heads %d) is odd", ErrMalformed, c.HeadDim(), c.Dim, c.Heads)
	}
	return nil
}

// Llama2C is a loaded checkpoint. Slices alias the mapped file (zero-copy)
// when the data is 4-byte aligned and the host is little-endian, else they
// are copies. Matrices are row-major (out, in). Each slice is capped at its
// own length, so appending to one never overwrites its neighbour.
//
// Slices from OpenLlama2C alias a read-only mapping: they must not be
// written to (the write faults; copy a tensor before changing it) and must
// not be used after the returned io.Closer is closed.
type Llama2C struct {
	Config Llama2CConfig
	// Version is the file format: 0 legacy, 1 llama2.c "version 1" (ak42).
	Version int

	TokenEmbedding []float32 // (vocab, dim)
	RMSAtt         []float32 // (layer, dim)
	WQ             []float32 // (layer, dim, dim): per layer (heads·headDim, dim), i.e. (out, in)
	WK             []float32 // (layer, kvDim, dim)
	WV             []float32 // (layer, kvDim, dim)
	WO             []float32 // (layer, dim, dim): per layer (dim, heads·headDim)
	RMSFFN         []float32 // (layer, dim)
	W1             []float32 // (layer, hidden, dim): gate
	W2             []float32 // (layer, dim, hidden): down
	W3             []float32 // (layer, hidden, dim): up
	RMSFinal       []float32 // (dim)
	WCls           []float32 // (vocab, dim); aliases TokenEmbedding when shared
}

// LayerRMSAtt is layer l's attention RMSNorm weight, (dim).
func (m *Llama2C) LayerRMSAtt(l int) []float32 { return m.layer("LayerRMSAtt", m.RMSAtt, l) }

// LayerWQ is layer l's query projection, (heads·headDim, dim).
func (m *Llama2C) LayerWQ(l int) []float32 { return m.layer("LayerWQ", m.WQ, l) }

// LayerWK is layer l's key projection, (kvDim, dim).
func (m *Llama2C) LayerWK(l int) []float32 { return m.layer("LayerWK", m.WK, l) }

// LayerWV is layer l's value projection, (kvDim, dim).
func (m *Llama2C) LayerWV(l int) []float32 { return m.layer("LayerWV", m.WV, l) }

// LayerWO is layer l's output projection, (dim, heads·headDim).
func (m *Llama2C) LayerWO(l int) []float32 { return m.layer("LayerWO", m.WO, l) }

// LayerRMSFFN is layer l's feed-forward RMSNorm weight, (dim).
func (m *Llama2C) LayerRMSFFN(l int) []float32 { return m.layer("LayerRMSFFN", m.RMSFFN, l) }

// LayerW1 is layer l's gate projection, (hidden, dim).
func (m *Llama2C) LayerW1(l int) []float32 { return m.layer("LayerW1", m.W1, l) }

// LayerW2 is layer l's down projection, (dim, hidden).
func (m *Llama2C) LayerW2(l int) []float32 { return m.layer("LayerW2", m.W2, l) }

// LayerW3 is layer l's up projection, (hidden, dim).
func (m *Llama2C) LayerW3(l int) []float32 { return m.layer("LayerW3", m.W3, l) }

// layer returns the l-th of Config.Layers equal parts of t, capped at its
// length. A bad index or a tensor whose length is not a multiple of the layer
// count is a programmer error and panics with a named message.
func (m *Llama2C) layer(name string, t []float32, l int) []float32 {
	n := m.Config.Layers
	if l < 0 || l >= n {
		panic(fmt.Sprintf("weights.Llama2C.%s: layer %d out of range [0, %d)", name, l, n))
	}
	if len(t)%n != 0 {
		panic(fmt.Sprintf("weights.Llama2C.%s: length %d is not a multiple of %d layers", name, len(t), n))
	}
	per := len(t) / n
	return t[l*per : (l+1)*per : (l+1)*per]
}

// llama2cSizes holds the element count of every tensor a header implies.
type llama2cSizes struct {
	tok, rmsAtt, wq, wk, wv, wo, rmsFFN, w1, w2, w3, rmsFinal, freq, wcls int64
}

// sizes computes every tensor's element count in int64, failing on overflow.
// c must already be valid.
func (c Llama2CConfig) sizes() (llama2cSizes, error) {
	var s llama2cSizes
	ovf := false
	mul := func(xs ...int) int64 {
		p := int64(1)
		for _, x := range xs {
			if p, ovf = mulCheck(p, int64(x), ovf); ovf {
				return 0
			}
		}
		return p
	}
	L := c.Layers
	s.tok = mul(c.VocabSize, c.Dim)
	s.rmsAtt = mul(L, c.Dim)
	s.wq = mul(L, c.Dim, c.Dim)
	s.wk = mul(L, c.KVDim(), c.Dim)
	s.wv = s.wk
	s.wo = s.wq
	s.rmsFFN = s.rmsAtt
	s.w1 = mul(L, c.HiddenDim, c.Dim)
	s.w2 = s.w1
	s.w3 = s.w1
	s.rmsFinal = int64(c.Dim)
	s.freq = mul(c.SeqLen, c.HeadDim()/2)
	if !c.SharedClassifier {
		s.wcls = s.tok
	}
	if ovf {
		return s, fmt.Errorf("%w: header %+v implies tensors larger than 2^63 elements", ErrMalformed, c)
	}
	return s, nil
}

// mulCheck returns a·b for non-negative a, b and whether it (or an earlier
// step, ovf) overflowed int64.
func mulCheck(a, b int64, ovf bool) (int64, bool) {
	if ovf || (a != 0 && b > math.MaxInt64/a) {
		return 0, true
	}
	return a * b, false
}

// addCheck returns a+b for non-negative a, b and whether it (or an earlier
// step, ovf) overflowed int64.
func addCheck(a, b int64, ovf bool) (int64, bool) {
	if ovf || b > math.MaxInt64-a {
		return 0, true
	}
	return a + b, false
}
