package model

import "github.com/headlight/headlight/internal/tensor"

// WeightStorer is a Decoder that can keep its large matrices (attention
// projections, feed-forward) in the form its products want: float32
// packed once into kernels.Panels (tensor.PackF32), or another precision,
// e.g. bfloat16 to halve the bytes a memory-bound decoding step streams,
// rounded (round to nearest even) once; products still accumulate in
// float32. Embeddings, norms and biases stay float32 as loaded.
type WeightStorer interface {
	StoreWeights(d tensor.DType) error
}
