package model

import "github.com/headlight/headlight/internal/tensor"

// WeightStorer is a Decoder that can keep its large matrices (attention
// projections, feed-forward) in the form its products want: float32
// packed once into kernels.Panels (tensor.PackF32), or another precision,
// e.g. bfloat16 to halve the bytes a memory-bound decoding step streams,
// rounded (round to nearest even) once; products still accumulate in
// float32. Embeddings, norms and biases stay float32 as loaded.
//
// done, when not nil, is called after each layer's weights are stored: the
// engine drops the model file's pages there, so a load peaks at the stored
// weights plus one layer's file pages, not at twice the model.
type WeightStorer interface {
	StoreWeights(d tensor.DType, done func()) error
}
