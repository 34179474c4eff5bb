package weights

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/headlight/headlight/internal/kernels"
)

// q8Block is ggml's QK8_0: a Q8_0 block holds 32 values as a float16 scale d
// followed by 32 int8 quants q; value j is d·q[j].
const (
	q8Block      = 32
	q8BlockBytes = 2 + q8Block
)

// Names lists the tensors in file order.
func (g *GGUF) Names() []string {
	names := make([]string, len(g.tensors))
	for i, t := range g.tensors {
		names[i] = t.Name
	}
	return names
}

// Tensors describes every tensor in file order.
func (g *GGUF) Tensors() []GGUFTensorInfo {
	out := slices.Clone(g.tensors)
	for i := range out {
		out[i].Shape = slices.Clone(out[i].Shape)
	}
	return out
}

// TensorInfo describes one tensor.
func (g *GGUF) TensorInfo(name string) (GGUFTensorInfo, bool) {
	i, ok := g.tIndex[name]
	if !ok {
		return GGUFTensorInfo{}, false
	}
	t := g.tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Info returns a tensor's shape in PyTorch order and its ggml type name.
func (g *GGUF) Info(name string) ([]int, string, bool) {
	t, ok := g.TensorInfo(name)
	if !ok {
		return nil, "", false
	}
	return t.Shape, t.Type.String(), true
}

// TensorData returns a tensor's raw bytes in the file's encoding (aliasing
// the file; do not modify).
func (g *GGUF) TensorData(name string) ([]byte, bool) {
	i, ok := g.tIndex[name]
	if !ok {
		return nil, false
	}
	t := g.tensors[i]
	start := g.dataOffset + t.Offset
	return g.data[start : start+t.Size : start+t.Size], true
}

// F32 returns a tensor as float32 values, row-major in PyTorch order (GGUF's
// ne[0] is the fastest-varying index, so no transposition is needed), after
// checking its shape against want when want is given. F32 tensors alias the
// file when the data is 4-byte aligned on a little-endian host (do not write
// to them); F16, BF16 and Q8_0 tensors are converted into a new slice. Other
// types return an error wrapping ErrUnsupported.
func (g *GGUF) F32(name string, want ...int) ([]float32, error) {
	i, ok := g.tIndex[name]
	if !ok {
		return nil, fmt.Errorf("gguf: %w", noTensor(name))
	}
	t := g.tensors[i]
	if err := checkShape(name, t.Shape, want); err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	b, _ := g.TensorData(name)
	switch t.Type {
	case GGMLF32:
		return asFloat32s(b, canAlias(b)), nil
	case GGMLF16, GGMLBF16:
		out := make([]float32, len(b)/2)
		conv := kernels.F16ToF32
		if t.Type == GGMLBF16 {
			conv = kernels.BF16ToF32
		}
		for k := range out {
			out[k] = conv(binary.LittleEndian.Uint16(b[2*k:]))
		}
		return out, nil
	case GGMLQ8_0:
		return dequantQ8_0(b), nil
	}
	return nil, fmt.Errorf("gguf: %w: tensor %q is %v (F32, F16, BF16 and Q8_0 are supported)",
		ErrUnsupported, name, t.Type)
}

// dequantQ8_0 decodes whole Q8_0 blocks, as ggml's dequantize_row_q8_0:
// y[j] = fp16(d) · q[j].
func dequantQ8_0(b []byte) []float32 {
	out := make([]float32, len(b)/q8BlockBytes*q8Block)
	for blk := range len(b) / q8BlockBytes {
		src := b[blk*q8BlockBytes : (blk+1)*q8BlockBytes]
		d := kernels.F16ToF32(binary.LittleEndian.Uint16(src))
		dst := out[blk*q8Block : (blk+1)*q8Block]
		for j := range dst {
			dst[j] = d * float32(int8(src[2+j]))
		}
	}
	return out
}
