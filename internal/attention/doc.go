// Package attention is Headlight's multi-head attention engine.
//
// The core computes, for every batch b, query head h and query i,
//
//	out[b,i,h] = Σ_j softmax_j(scale·q[b,i,h]·k[b,j,g] + bias[b,h,i,j]) · v[b,j,g]
//
// over the keys j that the masks allow, where g = h / (Heads/KVHeads) is the
// key/value head that query head h reads (grouped-query attention; KVHeads == 1
// is multi-query attention, KVHeads == Heads is ordinary multi-head attention).
//
// Tensors use the layout the projections produce, so no transpose is needed:
//
//	q   (batch, seqQ, heads·headDim)    head h in columns [h·headDim, (h+1)·headDim)
//	k,v (batch, seqK, kvHeads·headDim)
//	out (batch, seqQ, heads·headDim)
//
// The default path (Engine.Attend) is a fused, tiled online-softmax kernel in
// the manner of FlashAttention: it keeps a running max, sum and output per
// query row and never materialises the seqQ×seqK score matrix, so its extra
// memory is O(threads·tile) and grows linearly with sequence length. In the same
// pass it can measure every head (Stats): entropy, max weight, keys attended,
// output norm and NaN/Inf counts. Reference and Maps are the explicit
// (quadratic) paths, used by tests and for attention maps of chosen heads.
//
// The package never imports metrics or HTTP code: statistics leave through the
// Stats value and the Probe interface.
package attention
