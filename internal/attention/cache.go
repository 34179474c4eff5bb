package attention

import (
	"fmt"

	"github.com/headlight/headlight/internal/tensor"
)

// KVCache keeps the projected (and rotated) keys and values of one attention
// layer for a batch of sequences, so that decoding a new token costs one row
// of projections instead of the whole prefix. Sequences may hold different
// numbers of positions (Lens).
type KVCache struct {
	Batch, KVHeads, HeadDim, MaxSeq int
	K, V                            tensor.Store // (batch, maxSeq, kvHeads·headDim)
	Lens                            []int        // (batch) valid positions of each sequence
}

// NewKVCache allocates a cache for maxSeq positions stored as dtype.
func NewKVCache(dtype tensor.DType, batch, kvHeads, headDim, maxSeq int) *KVCache {
	if batch < 1 || kvHeads < 1 || headDim < 1 || maxSeq < 1 {
		panic(fmt.Sprintf("attention.NewKVCache: batch %d, kv heads %d, head dim %d, max seq %d must be positive", batch, kvHeads, headDim, maxSeq))
	}
	n := batch * maxSeq * kvHeads * headDim
	return &KVCache{Batch: batch, KVHeads: kvHeads, HeadDim: headDim, MaxSeq: maxSeq,
		K: tensor.NewStore(dtype, n), V: tensor.NewStore(dtype, n), Lens: make([]int, batch)}
}

// Bytes is the memory the cache holds.
func (c *KVCache) Bytes() int64 { return 2 * int64(c.K.Len()) * int64(c.K.DType().Size()) }

// MaxLen is the largest number of positions any sequence holds.
func (c *KVCache) MaxLen() int {
	m := 0
	for _, n := range c.Lens {
		m = max(m, n)
	}
	return m
}

// Append stores seq new rows per sequence after its valid positions: k and v
// are (batch, seq, kvHeads·headDim) float32, rounded to the cache's dtype.
// lens (batch), when non-nil, says how many of the seq rows of each sequence
// are real (right padding): only those become valid, and the padding rows are
// overwritten by the next append.
func (c *KVCache) Append(k, v []float32, seq int, lens []int) error {
	w := c.KVHeads * c.HeadDim
	if len(k) != c.Batch*seq*w || len(v) != len(k) {
		return fmt.Errorf("%w: appending %d/%d values, want batch %d × seq %d × %d", ErrShape, len(k), len(v), c.Batch, seq, w)
	}
	if lens != nil && len(lens) != c.Batch {
		return fmt.Errorf("%w: %d lengths for batch %d", ErrShape, len(lens), c.Batch)
	}
	for b, n := range c.Lens {
		if n+seq > c.MaxSeq {
			return fmt.Errorf("attention: KV cache full: sequence %d holds %d positions, %d more exceed its %d", b, n, seq, c.MaxSeq)
		}
		if lens != nil && (lens[b] < 0 || lens[b] > seq) {
			return fmt.Errorf("%w: length %d of sequence %d outside 0…%d", ErrShape, lens[b], b, seq)
		}
	}
	for b := range c.Lens {
		dst := (b*c.MaxSeq + c.Lens[b]) * w
		c.K.Set(dst, k[b*seq*w:(b+1)*seq*w])
		c.V.Set(dst, v[b*seq*w:(b+1)*seq*w])
		if lens != nil {
			c.Lens[b] += lens[b]
		} else {
			c.Lens[b] += seq
		}
	}
	return nil
}

// Reset empties the cache without freeing it.
func (c *KVCache) Reset() { clear(c.Lens) }
