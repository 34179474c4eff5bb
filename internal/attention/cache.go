package attention

import (
	"fmt"

	"github.com/headlight/headlight/internal/tensor"
)

// KVCache keeps the projected (and rotated) keys and values of one attention
// layer for a batch of sequences that advance together, so that decoding a
// new token costs one row of projections instead of the whole prefix.
type KVCache struct {
	Batch, KVHeads, HeadDim, MaxSeq int
	K, V                            tensor.Store // (batch, maxSeq, kvHeads·headDim)
	Len                             int          // positions filled, the same for every sequence
}

// NewKVCache allocates a cache for maxSeq positions stored as dtype.
func NewKVCache(dtype tensor.DType, batch, kvHeads, headDim, maxSeq int) *KVCache {
	if batch < 1 || kvHeads < 1 || headDim < 1 || maxSeq < 1 {
		panic(fmt.Sprintf("attention.NewKVCache: batch %d, kv heads %d, head dim %d, max seq %d must be positive", batch, kvHeads, headDim, maxSeq))
	}
	n := batch * maxSeq * kvHeads * headDim
	return &KVCache{Batch: batch, KVHeads: kvHeads, HeadDim: headDim, MaxSeq: maxSeq,
		K: tensor.NewStore(dtype, n), V: tensor.NewStore(dtype, n)}
}

// Bytes is the memory the cache holds.
func (c *KVCache) Bytes() int64 { return 2 * int64(c.K.Len()) * int64(c.K.DType().Size()) }

// Append stores seq new rows per sequence: k and v are (batch, seq,
// kvHeads·headDim) float32, rounded to the cache's dtype.
func (c *KVCache) Append(k, v []float32, seq int) error {
	w := c.KVHeads * c.HeadDim
	if len(k) != c.Batch*seq*w || len(v) != len(k) {
		return fmt.Errorf("%w: appending %d/%d values, want batch %d × seq %d × %d", ErrShape, len(k), len(v), c.Batch, seq, w)
	}
	if c.Len+seq > c.MaxSeq {
		return fmt.Errorf("attention: KV cache full: %d + %d positions exceed its %d", c.Len, seq, c.MaxSeq)
	}
	for b := 0; b < c.Batch; b++ {
		dst := (b*c.MaxSeq + c.Len) * w
		c.K.Set(dst, k[b*seq*w:(b+1)*seq*w])
		c.V.Set(dst, v[b*seq*w:(b+1)*seq*w])
	}
	c.Len += seq
	return nil
}

// Reset empties the cache without freeing it.
func (c *KVCache) Reset() { c.Len = 0 }
