package model

import "github.com/headlight/headlight/internal/tensor"

// WeightStorer is a Decoder that can keep its large matrices (attention
// projections, feed-forward) in another precision, e.g. bfloat16 to halve
// the bytes a memory-bound decoding step streams. StoreWeights rounds them
// (round to nearest even) once; products still accumulate in float32.
// Embeddings, norms and biases stay float32.
type WeightStorer interface {
	StoreWeights(d tensor.DType) error
}
