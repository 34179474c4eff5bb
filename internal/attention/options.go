package attention

import (
	"errors"
	"fmt"
	"math"
)

// Shape gives the sizes of one attention call.
type Shape struct {
	Batch   int // sequences in the batch
	Heads   int // query heads
	KVHeads int // key/value heads; must divide Heads (0 means Heads)
	HeadDim int // d_k, the width of one head
	SeqQ    int // queries per sequence
	SeqK    int // keys (and values) per sequence
	// KVCap is the number of rows each sequence owns in the k and v storage
	// (0 means SeqK). A KV cache allocated for MaxSeq positions passes
	// KVCap = MaxSeq and SeqK = the positions filled so far.
	KVCap int
}

// Window limits each query to nearby keys (sliding-window / local attention),
// as FlashAttention's window_size: key position kp is allowed for query
// position qp when qp-Left ≤ kp ≤ qp+Right. -1 leaves that side unbounded.
// {Left: w-1, Right: 0} with Causal is Mistral's sliding window of w keys.
type Window struct {
	Left, Right int
}

// Options selects the attention variant. The zero value is plain
// bidirectional softmax attention with scale 1/√headDim.
//
// Query i has position QOffset+i and key j has position j. Masks combine: a
// key is allowed only if every mask allows it. A query row with no allowed key
// has output 0 and weights 0 (never NaN).
type Options struct {
	// Scale multiplies q·k; 0 means 1/√HeadDim.
	Scale float32
	// Causal forbids keys after the query's position.
	Causal bool
	// QOffset is the position of query 0 (for decoding with a KV cache it is
	// the number of cached positions before the new queries).
	QOffset int
	// QOffsets (batch), when set, gives each sequence its own QOffset:
	// sequences of different lengths decoded in one batch.
	QOffsets []int
	// KeyLens (batch), when set, hides keys j ≥ KeyLens[b] of sequence b
	// (right padding, or cache rows not yet valid). Unlike KeyPadding it is
	// a range, so hidden keys cost nothing.
	KeyLens []int
	// Window, when set, restricts queries to a local band of keys.
	Window *Window
	// Global lists positions that are global (Longformer): a global query sees
	// every key, and every query sees global keys, whatever the Window says.
	// Causal, padding and boolean masks still apply.
	Global []int
	// KeyPadding (batch, seqK): true marks a padded key that no query sees.
	KeyPadding []bool
	// Mask (mb, mh, seqQ, seqK) with mb ∈ {1, batch}, mh ∈ {1, heads}:
	// true forbids that key (PyTorch's boolean attn_mask convention).
	Mask *BoolMask
	// Bias (bb, bh, seqQ, seqK) is added to the logits (learned relative
	// bias, additive masks); -Inf entries forbid the key.
	Bias *Bias
	// ALiBi holds one slope per query head: the logit gets -slope·|qp-kp|.
	ALiBi []float32
	// HeadMask (heads): false switches a head off. Its output is 0, it is not
	// computed, and its statistics are zero. nil keeps every head.
	HeadMask []bool
}

// BoolMask is a boolean mask broadcast over batch and heads.
type BoolMask struct {
	Batch, Heads int    // each 1 (broadcast) or the full size
	Data         []bool // (Batch, Heads, seqQ, seqK); true = masked
}

// Bias is an additive logit bias broadcast over batch and heads.
type Bias struct {
	Batch, Heads int       // each 1 (broadcast) or the full size
	Data         []float32 // (Batch, Heads, seqQ, seqK)
}

// ErrShape reports inputs whose sizes don't fit the Shape or Options.
var ErrShape = errors.New("attention: bad shape")

func shapeErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrShape, fmt.Sprintf(format, args...))
}

// norm fills defaults (KVHeads) and checks the sizes.
func (s Shape) norm() (Shape, error) {
	if s.KVHeads == 0 {
		s.KVHeads = s.Heads
	}
	if s.KVCap == 0 {
		s.KVCap = s.SeqK
	}
	switch {
	case s.Batch < 1, s.Heads < 1, s.HeadDim < 1, s.SeqQ < 0, s.SeqK < 0:
		return s, shapeErr("batch %d, heads %d, head dim %d, seqQ %d, seqK %d: sizes must be positive", s.Batch, s.Heads, s.HeadDim, s.SeqQ, s.SeqK)
	case s.KVCap < s.SeqK:
		return s, shapeErr("kv capacity %d is below seqK %d", s.KVCap, s.SeqK)
	case s.KVHeads < 1 || s.Heads%s.KVHeads != 0:
		return s, shapeErr("kv heads %d must divide heads %d", s.KVHeads, s.Heads)
	}
	return s, nil
}

// QLen, KVLen are the element counts of q/out and of k/v (after norm).
func (s Shape) QLen() int  { return s.Batch * s.SeqQ * s.Heads * s.HeadDim }
func (s Shape) KVLen() int { return s.Batch * s.KVCap * s.KVHeads * s.HeadDim }

func (s Shape) scale(o *Options) float32 {
	if o != nil && o.Scale != 0 {
		return o.Scale
	}
	return float32(1 / math.Sqrt(float64(s.HeadDim)))
}

// check validates the options against the shape.
func (o *Options) check(s Shape) error {
	if o == nil {
		return nil
	}
	if o.QOffset < 0 {
		return shapeErr("QOffset %d is negative", o.QOffset)
	}
	if o.QOffsets != nil && len(o.QOffsets) != s.Batch {
		return shapeErr("QOffsets has %d entries, want batch %d", len(o.QOffsets), s.Batch)
	}
	for _, q := range o.QOffsets {
		if q < 0 {
			return shapeErr("QOffsets holds %d: offsets must be ≥ 0", q)
		}
	}
	if o.KeyLens != nil && len(o.KeyLens) != s.Batch {
		return shapeErr("KeyLens has %d entries, want batch %d", len(o.KeyLens), s.Batch)
	}
	for _, n := range o.KeyLens {
		if n < 0 || n > s.SeqK {
			return shapeErr("KeyLens holds %d, want 0…seqK (%d)", n, s.SeqK)
		}
	}
	if math.IsNaN(float64(o.Scale)) || math.IsInf(float64(o.Scale), 0) {
		return shapeErr("scale %v is not finite", o.Scale)
	}
	if w := o.Window; w != nil && (w.Left < -1 || w.Right < -1) {
		return shapeErr("window {%d,%d}: sides must be ≥ 0 or -1 (unbounded)", w.Left, w.Right)
	}
	if o.KeyPadding != nil && len(o.KeyPadding) != s.Batch*s.SeqK {
		return shapeErr("key padding has %d entries, want batch·seqK = %d", len(o.KeyPadding), s.Batch*s.SeqK)
	}
	if m := o.Mask; m != nil {
		if err := broadcastOK("mask", m.Batch, m.Heads, len(m.Data), s); err != nil {
			return err
		}
	}
	if b := o.Bias; b != nil {
		if err := broadcastOK("bias", b.Batch, b.Heads, len(b.Data), s); err != nil {
			return err
		}
	}
	if o.ALiBi != nil && len(o.ALiBi) != s.Heads {
		return shapeErr("ALiBi has %d slopes, want one per head (%d)", len(o.ALiBi), s.Heads)
	}
	if o.HeadMask != nil && len(o.HeadMask) != s.Heads {
		return shapeErr("head mask has %d entries, want %d heads", len(o.HeadMask), s.Heads)
	}
	for _, g := range o.Global {
		if g < 0 {
			return shapeErr("global position %d is negative", g)
		}
	}
	return nil
}

func broadcastOK(what string, b, h, n int, s Shape) error {
	if (b != 1 && b != s.Batch) || (h != 1 && h != s.Heads) {
		return shapeErr("%s is (%d, %d, ·, ·): batch must be 1 or %d and heads 1 or %d", what, b, h, s.Batch, s.Heads)
	}
	if n != b*h*s.SeqQ*s.SeqK {
		return shapeErr("%s has %d entries, want %d·%d·%d·%d = %d", what, n, b, h, s.SeqQ, s.SeqK, b*h*s.SeqQ*s.SeqK)
	}
	return nil
}

// qOffset is the position of query 0 of sequence b.
func (o *Options) qOffset(b int) int {
	if o.QOffsets != nil {
		return o.QOffsets[b]
	}
	return o.QOffset
}

// keyLen is the number of keys sequence b may see at most.
func (o *Options) keyLen(b, seqK int) int {
	if o.KeyLens != nil {
		return o.KeyLens[b]
	}
	return seqK
}

// headOn reports whether head h is computed.
func (o *Options) headOn(h int) bool {
	return o == nil || o.HeadMask == nil || o.HeadMask[h]
}
