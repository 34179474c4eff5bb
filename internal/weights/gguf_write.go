package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/headlight/headlight/internal/kernels"
)

// GGUFWriter builds a GGUF version 3 file: metadata in insertion order, then
// tensors in the order added, each aligned to general.alignment (32 unless
// set as a uint32 power of two). The zero value is not usable; call
// NewGGUFWriter.
type GGUFWriter struct {
	kvs     []GGUFKV
	kvIndex map[string]int
	tensors []ggufOut
	names   map[string]bool
	err     error // first error of a Set method, returned by WriteTo
}

// ggufOut is one tensor to write: GGUF dims (ne, innermost first) and bytes.
type ggufOut struct {
	name string
	ne   []uint64
	typ  GGMLType
	data []byte
}

// NewGGUFWriter returns an empty writer.
func NewGGUFWriter() *GGUFWriter {
	return &GGUFWriter{kvIndex: map[string]int{}, names: map[string]bool{}}
}

// SetString sets a string value.
func (w *GGUFWriter) SetString(key, v string) { w.set(key, v) }

// SetUint32 sets a uint32 value.
func (w *GGUFWriter) SetUint32(key string, v uint32) { w.set(key, v) }

// SetInt32 sets an int32 value.
func (w *GGUFWriter) SetInt32(key string, v int32) { w.set(key, v) }

// SetFloat32 sets a float32 value.
func (w *GGUFWriter) SetFloat32(key string, v float32) { w.set(key, v) }

// SetBool sets a bool value.
func (w *GGUFWriter) SetBool(key string, v bool) { w.set(key, v) }

// SetStrings sets an array of strings.
func (w *GGUFWriter) SetStrings(key string, v []string) { w.set(key, slices.Clone(v)) }

// SetFloat32s sets an array of float32.
func (w *GGUFWriter) SetFloat32s(key string, v []float32) { w.set(key, slices.Clone(v)) }

// SetInt32s sets an array of int32.
func (w *GGUFWriter) SetInt32s(key string, v []int32) { w.set(key, slices.Clone(v)) }

// set is SetValue for the typed setters, whose values are always valid: an
// error (an empty key) is kept for WriteTo.
func (w *GGUFWriter) set(key string, v any) {
	if err := w.SetValue(key, v); err != nil && w.err == nil {
		w.err = err
	}
}

// SetValue sets key to v, which is any scalar a GGUF holds (uint8, int8,
// uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64), a slice of one of them (written as an array), or a GGUFArray
// (which may nest arrays). v is kept, not copied: do not change a slice
// before WriteTo. Setting a key again replaces its value and keeps its
// position.
func (w *GGUFWriter) SetValue(key string, v any) error {
	if key == "" {
		return errors.New("weights: GGUFWriter: empty metadata key")
	}
	typ, val, err := ggufTypeOf(v, 0)
	if err != nil {
		return fmt.Errorf("weights: GGUFWriter: %s: %w", key, err)
	}
	kv := GGUFKV{Key: key, Type: typ, Value: val}
	if i, ok := w.kvIndex[key]; ok {
		w.kvs[i] = kv
		return nil
	}
	w.kvIndex[key] = len(w.kvs)
	w.kvs = append(w.kvs, kv)
	return nil
}

// AddTensor adds a tensor of the given shape (PyTorch order, outermost
// first; 1 to 4 positive dims) stored as dtype "F32", "F16", "BF16" (round to
// nearest even) or "Q8_0" (ggml's quantize_row_q8_0: per block of 32,
// d = max|x|/127, q = round(x/d); the innermost dim must be a multiple of 32
// and the values finite). data holds the row-major values and is not kept.
func (w *GGUFWriter) AddTensor(name string, shape []int, dtype string, data []float32) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("weights: GGUFWriter: tensor %q: %s", name, fmt.Sprintf(format, args...))
	}
	if w.names[name] {
		return fail("added twice")
	}
	if len(shape) == 0 || len(shape) > ggufMaxDims {
		return fail("%d dims, want 1..%d", len(shape), ggufMaxDims)
	}
	n := 1
	ne := make([]uint64, len(shape))
	for i, d := range shape {
		if d <= 0 || n > math.MaxInt/d {
			return fail("bad shape %v", shape)
		}
		n *= d
		ne[len(shape)-1-i] = uint64(d)
	}
	if n != len(data) {
		return fail("shape %v holds %d values, data has %d", shape, n, len(data))
	}
	var b []byte
	var typ GGMLType
	switch strings.ToUpper(dtype) {
	case "F32":
		typ, b = GGMLF32, make([]byte, 0, 4*n)
		for _, v := range data {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	case "F16", "BF16":
		typ, b = GGMLF16, make([]byte, 0, 2*n)
		conv := kernels.F32ToF16
		if strings.EqualFold(dtype, "BF16") {
			typ, conv = GGMLBF16, kernels.F32ToBF16
		}
		for _, v := range data {
			b = binary.LittleEndian.AppendUint16(b, conv(v))
		}
	case "Q8_0":
		if shape[len(shape)-1]%q8Block != 0 {
			return fail("Q8_0 rows of %d values, want a multiple of %d", shape[len(shape)-1], q8Block)
		}
		for _, v := range data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fail("Q8_0 of a non-finite value %v", v)
			}
		}
		typ, b = GGMLQ8_0, quantQ8_0(data)
	default:
		return fail("dtype %q, want F32, F16, BF16 or Q8_0", dtype)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, ggufOut{name: name, ne: ne, typ: typ, data: b})
	return nil
}

// quantQ8_0 quantises len(x) (a multiple of 32) values as ggml's
// quantize_row_q8_0_ref does, in float32 with roundf (half away from zero).
func quantQ8_0(x []float32) []byte {
	out := make([]byte, 0, len(x)/q8Block*q8BlockBytes)
	for blk := 0; blk < len(x); blk += q8Block {
		xs := x[blk : blk+q8Block]
		var amax float32
		for _, v := range xs {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		out = binary.LittleEndian.AppendUint16(out, kernels.F32ToF16(d))
		for _, v := range xs {
			q := math.Round(float64(v * id))
			if math.IsNaN(q) { // id = +Inf for a subnormal d, times 0
				q = 0
			}
			out = append(out, byte(int8(max(-127, min(127, q)))))
		}
	}
	return out
}

// WriteTo writes the file; it returns the first error of a Set method or
// of w, and the number of bytes written.
func (w *GGUFWriter) WriteTo(out io.Writer) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	align := uint64(ggufDefaultAlign)
	if i, ok := w.kvIndex["general.alignment"]; ok {
		a, isU32 := w.kvs[i].Value.(uint32)
		if !isU32 || a == 0 || a&(a-1) != 0 {
			return 0, fmt.Errorf("weights: GGUFWriter: general.alignment is %v, want a uint32 power of two", w.kvs[i].Value)
		}
		align = uint64(a)
	}
	pad := func(n uint64) uint64 { return (align - n%align) % align }
	le := binary.LittleEndian
	h := []byte(ggufMagic)
	h = le.AppendUint32(h, 3)
	h = le.AppendUint64(h, uint64(len(w.tensors)))
	h = le.AppendUint64(h, uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		h = appendGGUFString(h, kv.Key)
		h = le.AppendUint32(h, uint32(kv.Type))
		h = appendGGUFValue(h, kv.Value)
	}
	var off uint64
	for _, t := range w.tensors {
		h = appendGGUFString(h, t.name)
		h = le.AppendUint32(h, uint32(len(t.ne)))
		for _, d := range t.ne {
			h = le.AppendUint64(h, d)
		}
		h = le.AppendUint32(h, uint32(t.typ))
		h = le.AppendUint64(h, off)
		off += uint64(len(t.data)) + pad(uint64(len(t.data)))
	}
	h = append(h, make([]byte, pad(uint64(len(h))))...)
	total, err := out.Write(h)
	n := int64(total)
	for _, t := range w.tensors {
		if err != nil {
			break
		}
		k, e := out.Write(t.data)
		n, err = n+int64(k), e
		if err == nil {
			k, err = out.Write(make([]byte, pad(uint64(len(t.data)))))
			n += int64(k)
		}
	}
	return n, err
}
