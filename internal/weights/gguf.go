package weights

import (
	"fmt"
	"io"
	"math"
	"slices"
)

// GGUF is llama.cpp's model file format (ggml's gguf.md). A file is, all
// little-endian:
//
//	magic "GGUF", uint32 version (2 or 3), uint64 tensor_count, uint64 kv_count
//	kv_count × (string key, uint32 value_type, value)
//	tensor_count × (string name, uint32 n_dims, n_dims × uint64 ne,
//	                uint32 ggml_type, uint64 offset)
//	zero padding to general.alignment (default 32), then the tensor data
//
// A string is a uint64 byte length and the bytes (UTF-8, no terminator). An
// array value is uint32 element type, uint64 count, the elements. Offsets are
// relative to the start of the tensor data and multiples of the alignment.
// ne[0] is the innermost (fastest varying) dimension: a PyTorch (out, in)
// weight is stored with ne = [in, out]. GGUF and Source report the PyTorch
// order. Version 3 only added big-endian files (rejected here); version 1
// used 32-bit counts and is rejected.

// GGMLType is the storage type of a GGUF tensor (ggml's enum ggml_type).
type GGMLType uint32

// The ggml types whose layout is known. Gaps are ids that ggml has removed.
const (
	GGMLF32     GGMLType = 0
	GGMLF16     GGMLType = 1
	GGMLQ4_0    GGMLType = 2
	GGMLQ4_1    GGMLType = 3
	GGMLQ5_0    GGMLType = 6
	GGMLQ5_1    GGMLType = 7
	GGMLQ8_0    GGMLType = 8
	GGMLQ8_1    GGMLType = 9
	GGMLQ2_K    GGMLType = 10
	GGMLQ3_K    GGMLType = 11
	GGMLQ4_K    GGMLType = 12
	GGMLQ5_K    GGMLType = 13
	GGMLQ6_K    GGMLType = 14
	GGMLQ8_K    GGMLType = 15
	GGMLIQ2_XXS GGMLType = 16
	GGMLIQ2_XS  GGMLType = 17
	GGMLIQ3_XXS GGMLType = 18
	GGMLIQ1_S   GGMLType = 19
	GGMLIQ4_NL  GGMLType = 20
	GGMLIQ3_S   GGMLType = 21
	GGMLIQ2_S   GGMLType = 22
	GGMLIQ4_XS  GGMLType = 23
	GGMLI8      GGMLType = 24
	GGMLI16     GGMLType = 25
	GGMLI32     GGMLType = 26
	GGMLI64     GGMLType = 27
	GGMLF64     GGMLType = 28
	GGMLIQ1_M   GGMLType = 29
	GGMLBF16    GGMLType = 30
	GGMLTQ1_0   GGMLType = 34
	GGMLTQ2_0   GGMLType = 35
	GGMLMXFP4   GGMLType = 39
)

// ggmlLayout is one type's block: blockSize elements take typeSize bytes.
type ggmlLayout struct {
	name                string
	blockSize, typeSize int64
}

// ggmlTypes is ggml's type_traits table (blck_size, type_size) for the types
// above; QK_K = 256.
var ggmlTypes = map[GGMLType]ggmlLayout{
	GGMLF32: {"F32", 1, 4}, GGMLF16: {"F16", 1, 2}, GGMLBF16: {"BF16", 1, 2},
	GGMLF64: {"F64", 1, 8}, GGMLI8: {"I8", 1, 1}, GGMLI16: {"I16", 1, 2},
	GGMLI32: {"I32", 1, 4}, GGMLI64: {"I64", 1, 8},
	GGMLQ4_0: {"Q4_0", 32, 18}, GGMLQ4_1: {"Q4_1", 32, 20},
	GGMLQ5_0: {"Q5_0", 32, 22}, GGMLQ5_1: {"Q5_1", 32, 24},
	GGMLQ8_0: {"Q8_0", 32, 34}, GGMLQ8_1: {"Q8_1", 32, 36},
	GGMLQ2_K: {"Q2_K", 256, 84}, GGMLQ3_K: {"Q3_K", 256, 110},
	GGMLQ4_K: {"Q4_K", 256, 144}, GGMLQ5_K: {"Q5_K", 256, 176},
	GGMLQ6_K: {"Q6_K", 256, 210}, GGMLQ8_K: {"Q8_K", 256, 292},
	GGMLIQ2_XXS: {"IQ2_XXS", 256, 66}, GGMLIQ2_XS: {"IQ2_XS", 256, 74},
	GGMLIQ3_XXS: {"IQ3_XXS", 256, 98}, GGMLIQ1_S: {"IQ1_S", 256, 50},
	GGMLIQ4_NL: {"IQ4_NL", 32, 18}, GGMLIQ3_S: {"IQ3_S", 256, 110},
	GGMLIQ2_S: {"IQ2_S", 256, 82}, GGMLIQ4_XS: {"IQ4_XS", 256, 136},
	GGMLIQ1_M: {"IQ1_M", 256, 56}, GGMLTQ1_0: {"TQ1_0", 256, 54},
	GGMLTQ2_0: {"TQ2_0", 256, 66}, GGMLMXFP4: {"MXFP4", 32, 17},
}

// String is ggml's name of the type ("F32", "Q8_0", …).
func (t GGMLType) String() string {
	if l, ok := ggmlTypes[t]; ok {
		return l.name
	}
	return fmt.Sprintf("GGMLType(%d)", uint32(t))
}

// GGUFValueType is the type of a GGUF metadata value.
type GGUFValueType uint32

// The GGUF metadata value types.
const (
	GGUFUint8   GGUFValueType = 0
	GGUFInt8    GGUFValueType = 1
	GGUFUint16  GGUFValueType = 2
	GGUFInt16   GGUFValueType = 3
	GGUFUint32  GGUFValueType = 4
	GGUFInt32   GGUFValueType = 5
	GGUFFloat32 GGUFValueType = 6
	GGUFBool    GGUFValueType = 7
	GGUFString  GGUFValueType = 8
	GGUFArrayT  GGUFValueType = 9
	GGUFUint64  GGUFValueType = 10
	GGUFInt64   GGUFValueType = 11
	GGUFFloat64 GGUFValueType = 12
)

var ggufValueNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t GGUFValueType) String() string {
	if int(t) < len(ggufValueNames) {
		return ggufValueNames[t]
	}
	return fmt.Sprintf("GGUFValueType(%d)", uint32(t))
}

// GGUFArray is an array metadata value. Values is a slice of the Go type of
// Elem: []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32,
// []bool, []string, []GGUFArray (nested arrays), []uint64, []int64 or
// []float64.
type GGUFArray struct {
	Elem   GGUFValueType
	Values any
}

// GGUFKV is one metadata entry. Value holds the Go type of Type (uint8 …
// float64, bool, string) or a GGUFArray.
type GGUFKV struct {
	Key   string
	Type  GGUFValueType
	Value any
}

// GGUFTensorInfo describes one tensor of a GGUF file.
type GGUFTensorInfo struct {
	Name  string
	Shape []int    // PyTorch order, outermost first: the reverse of GGUF's ne
	Type  GGMLType // storage type
	// Offset is the data's position relative to the tensor data section
	// (GGUF.DataOffset), Size its length in bytes.
	Offset, Size int64
}

// GGUF is a parsed GGUF file. Metadata is decoded into Go values; tensor data
// stays in the file (or mapping) until F32 reads it. It implements Source.
type GGUF struct {
	version    int
	alignment  int
	dataOffset int64 // absolute offset of the tensor data section
	kvs        []GGUFKV
	kvIndex    map[string]int
	tensors    []GGUFTensorInfo
	tIndex     map[string]int
	data       []byte    // the whole file
	closer     io.Closer // nil for ParseGGUF
}

var _ Source = (*GGUF)(nil)

// OpenGGUF memory-maps a GGUF file and parses it; Close unmaps it. Float32
// tensors returned by F32 alias the read-only mapping: do not write to them
// and do not use them after Close. On platforms without mmap the file is read
// into memory.
func OpenGGUF(path string) (*GGUF, error) {
	data, closer, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	g, err := ParseGGUF(data)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	g.closer = closer
	return g, nil
}

// Close releases the mapping of a file opened with OpenGGUF (a no-op for
// ParseGGUF). Closing twice is harmless.
func (g *GGUF) Close() error {
	if g.closer == nil {
		return nil
	}
	return g.closer.Close()
}

// Version is the file's GGUF version (2 or 3).
func (g *GGUF) Version() int { return g.version }

// Alignment is the data alignment in bytes (general.alignment, default 32).
func (g *GGUF) Alignment() int { return g.alignment }

// DataOffset is the absolute file offset of the tensor data section.
func (g *GGUF) DataOffset() int64 { return g.dataOffset }

// Metadata lists every key-value pair in file order.
func (g *GGUF) Metadata() []GGUFKV { return slices.Clone(g.kvs) }

// Keys lists the metadata keys in file order.
func (g *GGUF) Keys() []string {
	keys := make([]string, len(g.kvs))
	for i, kv := range g.kvs {
		keys[i] = kv.Key
	}
	return keys
}

// Value returns a metadata entry: its type and value (see GGUFKV).
func (g *GGUF) Value(key string) (GGUFValueType, any, bool) {
	i, ok := g.kvIndex[key]
	if !ok {
		return 0, nil, false
	}
	return g.kvs[i].Type, g.kvs[i].Value, true
}

// GetString returns a string value.
func (g *GGUF) GetString(key string) (string, bool) {
	_, v, _ := g.Value(key)
	s, ok := v.(string)
	return s, ok
}

// GetInt returns a value of any integer type that fits in an int64.
func (g *GGUF) GetInt(key string) (int64, bool) {
	_, v, _ := g.Value(key)
	return intValue(v)
}

// GetFloat returns a value of any numeric type as float64.
func (g *GGUF) GetFloat(key string) (float64, bool) {
	_, v, _ := g.Value(key)
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	i, ok := intValue(v)
	return float64(i), ok
}

// GetStrings returns an array of strings.
func (g *GGUF) GetStrings(key string) ([]string, bool) {
	_, v, _ := g.Value(key)
	a, ok := v.(GGUFArray)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return slices.Clone(s), ok
}

// GetFloats returns an array of any numeric type as float32 values.
func (g *GGUF) GetFloats(key string) ([]float32, bool) {
	_, v, _ := g.Value(key)
	a, ok := v.(GGUFArray)
	if !ok {
		return nil, false
	}
	switch x := a.Values.(type) {
	case []float32:
		return slices.Clone(x), true
	case []float64:
		out := make([]float32, len(x))
		for i, f := range x {
			out[i] = float32(f)
		}
		return out, true
	}
	ints, ok := intsOf(a)
	if !ok {
		return nil, false
	}
	out := make([]float32, len(ints))
	for i, n := range ints {
		out[i] = float32(n)
	}
	return out, true
}

// GetInts returns an array of any integer type as int64 values (false if a
// uint64 element exceeds math.MaxInt64).
func (g *GGUF) GetInts(key string) ([]int64, bool) {
	_, v, _ := g.Value(key)
	a, ok := v.(GGUFArray)
	if !ok {
		return nil, false
	}
	return intsOf(a)
}

// Architecture is general.architecture ("llama", …), or "" when absent.
func (g *GGUF) Architecture() string {
	s, _ := g.GetString("general.architecture")
	return s
}

// intValue converts any integer value to int64.
func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// intsOf converts an integer array to int64 values.
func intsOf(a GGUFArray) ([]int64, bool) {
	conv := func(n int, at func(int) any) ([]int64, bool) {
		out := make([]int64, n)
		for i := range out {
			x, ok := intValue(at(i))
			if !ok {
				return nil, false
			}
			out[i] = x
		}
		return out, true
	}
	switch x := a.Values.(type) {
	case []uint8:
		return conv(len(x), func(i int) any { return x[i] })
	case []int8:
		return conv(len(x), func(i int) any { return x[i] })
	case []uint16:
		return conv(len(x), func(i int) any { return x[i] })
	case []int16:
		return conv(len(x), func(i int) any { return x[i] })
	case []uint32:
		return conv(len(x), func(i int) any { return x[i] })
	case []int32:
		return conv(len(x), func(i int) any { return x[i] })
	case []uint64:
		return conv(len(x), func(i int) any { return x[i] })
	case []int64:
		return slices.Clone(x), true
	}
	return nil, false
}
