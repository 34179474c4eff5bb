package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// Limits of the GGUF parser.
const (
	ggufMagic          = "GGUF"
	ggufDefaultAlign   = 32
	ggufMaxDims        = 4  // GGML_MAX_DIMS
	ggufMaxArrayDepth  = 8  // nesting of arrays inside arrays
	ggufMinKVBytes     = 13 // empty key (8) + type (4) + one-byte value
	ggufMinTensorBytes = 32 // empty name (8) + n_dims (4) + one dim (8) + type (4) + offset (8)
)

// ggufReader decodes little-endian values from a byte slice. The first
// failure is kept in err; later reads return zero values.
type ggufReader struct {
	b   []byte
	off int
	err error
}

// fail records a malformed-data error (the first one wins).
func (r *ggufReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: gguf: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// remaining is the number of unread bytes.
func (r *ggufReader) remaining() uint64 { return uint64(len(r.b) - r.off) }

// take returns the next n bytes, or nil (and an error) if there are fewer.
func (r *ggufReader) take(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > r.remaining() {
		r.fail("%s at offset %d needs %d bytes, %d remain", what, r.off, n, r.remaining())
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *ggufReader) u8(what string) uint8 {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *ggufReader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *ggufReader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *ggufReader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// str reads a length-prefixed string.
func (r *ggufReader) str(what string) string {
	n := r.u64(what + " length")
	return string(r.take(n, what))
}

// count reads a uint64 element count and checks that count elements of at
// least minSize bytes each fit in the remaining input, so that nothing
// allocated for them can exceed a small multiple of the input size.
func (r *ggufReader) count(what string, minSize uint64) int {
	n := r.u64(what)
	if r.err == nil && n > r.remaining()/minSize {
		r.fail("%s %d exceeds what the %d remaining bytes can hold", what, n, r.remaining())
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

// ParseGGUF reads a GGUF file held in memory. Float32 tensors returned by
// F32 may alias data: it must outlive them and not change. Every count,
// length, shape and offset is validated first: malformed input returns an
// error wrapping ErrMalformed, never a panic or an allocation much larger
// than the input.
func ParseGGUF(data []byte) (*GGUF, error) {
	if len(data) < 4 || string(data[:4]) != ggufMagic {
		return nil, fmt.Errorf("%w: gguf: no \"GGUF\" magic at the start of the file", ErrMalformed)
	}
	r := &ggufReader{b: data, off: 4}
	v := r.u32("version")
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case v == 2 || v == 3:
		g := &GGUF{version: int(v), data: data, alignment: ggufDefaultAlign}
		if err := g.parse(r); err != nil {
			return nil, err
		}
		return g, nil
	case v == 1:
		return nil, fmt.Errorf("%w: gguf: version 1 is unsupported (versions 2 and 3 are)", ErrMalformed)
	case bits.ReverseBytes32(v) == 2 || bits.ReverseBytes32(v) == 3:
		return nil, fmt.Errorf("%w: gguf: big-endian files are unsupported", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: gguf: version %d is unsupported (versions 2 and 3 are)", ErrMalformed, v)
	}
}

// parse reads everything after the version.
func (g *GGUF) parse(r *ggufReader) error {
	nTensors := r.u64("tensor count")
	nKV := r.count("metadata count", ggufMinKVBytes)
	g.kvs = make([]GGUFKV, 0, nKV)
	g.kvIndex = make(map[string]int, nKV)
	for i := 0; i < nKV && r.err == nil; i++ {
		key := r.str(fmt.Sprintf("metadata key %d", i))
		typ := GGUFValueType(r.u32("value type of " + key))
		val := r.value(key, typ, 0)
		if r.err != nil {
			break
		}
		if key == "" {
			r.fail("metadata entry %d has an empty key", i)
			break
		}
		if _, dup := g.kvIndex[key]; dup {
			r.fail("duplicate metadata key %q", key)
			break
		}
		g.kvIndex[key] = len(g.kvs)
		g.kvs = append(g.kvs, GGUFKV{Key: key, Type: typ, Value: val})
	}
	if r.err != nil {
		return r.err
	}
	if t, v, ok := g.Value("general.alignment"); ok {
		a, isU32 := v.(uint32)
		if !isU32 || a == 0 || a&(a-1) != 0 {
			return fmt.Errorf("%w: gguf: general.alignment is %v (%v), want a uint32 power of two", ErrMalformed, v, t)
		}
		g.alignment = int(a)
	}
	if r.err == nil && nTensors > r.remaining()/ggufMinTensorBytes {
		r.fail("tensor count %d exceeds what the %d remaining bytes can hold", nTensors, r.remaining())
	}
	for i := 0; uint64(i) < nTensors && r.err == nil; i++ {
		g.readTensorInfo(r, i)
	}
	if r.err != nil {
		return r.err
	}
	start := uint64(r.off) + (uint64(g.alignment)-uint64(r.off)%uint64(g.alignment))%uint64(g.alignment)
	if len(g.tensors) > 0 && start > uint64(len(g.data)) {
		return fmt.Errorf("%w: gguf: tensor data would start at %d, past the end of the %d-byte file",
			ErrMalformed, start, len(g.data))
	}
	g.dataOffset = int64(min(start, uint64(len(g.data))))
	return g.checkTensors()
}

// value reads one metadata value of type typ; depth counts enclosing arrays.
func (r *ggufReader) value(key string, typ GGUFValueType, depth int) any {
	switch typ {
	case GGUFUint8:
		return r.u8(key)
	case GGUFInt8:
		return int8(r.u8(key))
	case GGUFUint16:
		return r.u16(key)
	case GGUFInt16:
		return int16(r.u16(key))
	case GGUFUint32:
		return r.u32(key)
	case GGUFInt32:
		return int32(r.u32(key))
	case GGUFFloat32:
		return math.Float32frombits(r.u32(key))
	case GGUFUint64:
		return r.u64(key)
	case GGUFInt64:
		return int64(r.u64(key))
	case GGUFFloat64:
		return math.Float64frombits(r.u64(key))
	case GGUFBool:
		b := r.u8(key)
		if b > 1 {
			r.fail("%s: bool value %d, want 0 or 1", key, b)
		}
		return b == 1
	case GGUFString:
		return r.str(key)
	case GGUFArrayT:
		if depth >= ggufMaxArrayDepth {
			r.fail("%s: arrays nested deeper than %d", key, ggufMaxArrayDepth)
			return nil
		}
		return r.array(key, depth)
	}
	r.fail("%s: unknown value type %d", key, uint32(typ))
	return nil
}

// ggufMinSize is the least number of bytes one value of type t takes.
func ggufMinSize(t GGUFValueType) uint64 {
	switch t {
	case GGUFUint8, GGUFInt8, GGUFBool:
		return 1
	case GGUFUint16, GGUFInt16:
		return 2
	case GGUFUint32, GGUFInt32, GGUFFloat32:
		return 4
	case GGUFString, GGUFUint64, GGUFInt64, GGUFFloat64:
		return 8
	}
	return 12 // an array: element type and count
}

// array reads an array value (after its type tag).
func (r *ggufReader) array(key string, depth int) any {
	elem := GGUFValueType(r.u32(key + " element type"))
	if r.err == nil && elem > GGUFFloat64 {
		r.fail("%s: unknown array element type %d", key, uint32(elem))
	}
	n := r.count(key+" array length", ggufMinSize(elem))
	if r.err != nil {
		return nil
	}
	var vals any
	switch elem {
	case GGUFUint8:
		vals = readN(r, n, func() uint8 { return r.u8(key) })
	case GGUFInt8:
		vals = readN(r, n, func() int8 { return int8(r.u8(key)) })
	case GGUFUint16:
		vals = readN(r, n, func() uint16 { return r.u16(key) })
	case GGUFInt16:
		vals = readN(r, n, func() int16 { return int16(r.u16(key)) })
	case GGUFUint32:
		vals = readN(r, n, func() uint32 { return r.u32(key) })
	case GGUFInt32:
		vals = readN(r, n, func() int32 { return int32(r.u32(key)) })
	case GGUFFloat32:
		vals = readN(r, n, func() float32 { return math.Float32frombits(r.u32(key)) })
	case GGUFUint64:
		vals = readN(r, n, func() uint64 { return r.u64(key) })
	case GGUFInt64:
		vals = readN(r, n, func() int64 { return int64(r.u64(key)) })
	case GGUFFloat64:
		vals = readN(r, n, func() float64 { return math.Float64frombits(r.u64(key)) })
	case GGUFBool:
		vals = readN(r, n, func() bool { return r.value(key, GGUFBool, depth).(bool) })
	case GGUFString:
		vals = readN(r, n, func() string { return r.str(key) })
	case GGUFArrayT:
		vals = readN(r, n, func() GGUFArray {
			a, _ := r.value(key, GGUFArrayT, depth+1).(GGUFArray)
			return a
		})
	}
	return GGUFArray{Elem: elem, Values: vals}
}

// readN reads n values with next, stopping at the first error.
func readN[T any](r *ggufReader, n int, next func() T) []T {
	out := make([]T, n)
	for i := range out {
		if out[i] = next(); r.err != nil {
			return nil
		}
	}
	return out
}

// readTensorInfo reads the i-th tensor info and checks what can be checked
// before the data section is known: rank, dims, type, name uniqueness.
func (g *GGUF) readTensorInfo(r *ggufReader, i int) {
	name := r.str(fmt.Sprintf("tensor %d name", i))
	nd := r.u32("n_dims of " + name)
	if r.err == nil && (nd == 0 || nd > ggufMaxDims) {
		r.fail("tensor %q has %d dimensions, want 1..%d", name, nd, ggufMaxDims)
		return
	}
	var ne [ggufMaxDims]uint64
	for j := range int(nd) {
		ne[j] = r.u64("dims of " + name)
		if r.err == nil && (ne[j] == 0 || ne[j] > math.MaxInt64) {
			r.fail("tensor %q has dimension ne[%d] = %d", name, j, ne[j])
		}
	}
	typ := GGMLType(r.u32("type of " + name))
	off := r.u64("offset of " + name)
	if r.err != nil {
		return
	}
	layout, known := ggmlTypes[typ]
	if !known {
		r.fail("tensor %q has unknown ggml type %d", name, uint32(typ))
		return
	}
	if g.tIndex == nil {
		g.tIndex = make(map[string]int)
	}
	if _, dup := g.tIndex[name]; dup {
		r.fail("duplicate tensor name %q", name)
		return
	}
	// Elements and bytes, with overflow checks; every dim is in [1, 2^63).
	elems, ovf := int64(1), false
	shape := make([]int, nd)
	for j := range int(nd) {
		elems, ovf = mulCheck(elems, int64(ne[j]), ovf)
		shape[int(nd)-1-j] = int(min(ne[j], math.MaxInt))
	}
	switch {
	case ovf || elems > math.MaxInt:
		r.fail("tensor %q: dims %v have too many elements", name, ne[:nd])
	case int64(ne[0])%layout.blockSize != 0:
		r.fail("tensor %q: row length ne[0] = %d is not a multiple of the %s block size %d",
			name, ne[0], layout.name, layout.blockSize)
	case off > math.MaxInt64:
		r.fail("tensor %q: offset %d is past any file", name, off)
	case off%uint64(g.alignment) != 0:
		r.fail("tensor %q: offset %d is not a multiple of the alignment %d", name, off, g.alignment)
	}
	size, ovf := mulCheck(elems/layout.blockSize, layout.typeSize, false)
	if r.err == nil && ovf {
		r.fail("tensor %q: dims %v take more than 2^63 bytes", name, ne[:nd])
	}
	if r.err != nil {
		return
	}
	g.tIndex[name] = len(g.tensors)
	g.tensors = append(g.tensors, GGUFTensorInfo{Name: name, Shape: shape, Type: typ, Offset: int64(off), Size: size})
}

// checkTensors checks that every tensor lies inside the data section and
// that no two overlap.
func (g *GGUF) checkTensors() error {
	avail := int64(len(g.data)) - g.dataOffset
	order := make([]int, len(g.tensors))
	for i, t := range g.tensors {
		order[i] = i
		if end, ovf := addCheck(t.Offset, t.Size, false); ovf || end > avail {
			return fmt.Errorf("%w: gguf: tensor %q (%d bytes at data offset %d) ends past the %d bytes of tensor data",
				ErrMalformed, t.Name, t.Size, t.Offset, avail)
		}
	}
	sort.Slice(order, func(a, b int) bool { return g.tensors[order[a]].Offset < g.tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, t := g.tensors[order[k-1]], g.tensors[order[k]]
		if prev.Offset+prev.Size > t.Offset {
			return fmt.Errorf("%w: gguf: tensors %q and %q overlap", ErrMalformed, prev.Name, t.Name)
		}
	}
	return nil
}
