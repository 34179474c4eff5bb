package weights

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// ggufBytes assembles GGUF files by hand, independently of GGUFWriter.
type ggufBytes struct{ b []byte }

func (g *ggufBytes) raw(s string) *ggufBytes { g.b = append(g.b, s...); return g }
func (g *ggufBytes) u8(v uint8) *ggufBytes   { g.b = append(g.b, v); return g }
func (g *ggufBytes) u16(v uint16) *ggufBytes {
	g.b = binary.LittleEndian.AppendUint16(g.b, v)
	return g
}
func (g *ggufBytes) u32(v uint32) *ggufBytes {
	g.b = binary.LittleEndian.AppendUint32(g.b, v)
	return g
}
func (g *ggufBytes) u64(v uint64) *ggufBytes {
	g.b = binary.LittleEndian.AppendUint64(g.b, v)
	return g
}
func (g *ggufBytes) str(s string) *ggufBytes { return g.u64(uint64(len(s))).raw(s) }

// pad appends zeros up to a multiple of a.
func (g *ggufBytes) pad(a int) *ggufBytes {
	for len(g.b)%a != 0 {
		g.b = append(g.b, 0)
	}
	return g
}

// ggufTensorSpec is one hand-written tensor info.
type ggufTensorSpec struct {
	name string
	ne   []uint64
	typ  uint32
	off  uint64
}

// handGGUF writes a v3 file with the given metadata bytes (kv entries
// already encoded, n of them), tensor infos, and dataLen zero bytes of
// tensor data after 32-byte padding.
func handGGUF(nKV int, kvs []byte, tensors []ggufTensorSpec, dataLen int) []byte {
	b := &ggufBytes{}
	b.raw("GGUF").u32(3).u64(uint64(len(tensors))).u64(uint64(nKV)).raw(string(kvs))
	for _, t := range tensors {
		b.str(t.name).u32(uint32(len(t.ne)))
		for _, d := range t.ne {
			b.u64(d)
		}
		b.u32(t.typ).u64(t.off)
	}
	b.pad(32)
	return append(b.b, make([]byte, dataLen)...)
}

// kv encodes one metadata entry whose value bytes are given.
func kv(key string, typ GGUFValueType, value func(*ggufBytes)) []byte {
	b := &ggufBytes{}
	b.str(key).u32(uint32(typ))
	value(b)
	return b.b
}

// wantMalformed fails unless ParseGGUF rejects data with an ErrMalformed
// error containing every fragment.
func wantMalformed(t *testing.T, name string, data []byte, fragments ...string) {
	t.Helper()
	g, err := ParseGGUF(data)
	if err == nil {
		t.Errorf("%s: accepted", name)
		return
	}
	if g != nil || !errors.Is(err, ErrMalformed) {
		t.Errorf("%s: %v (non-nil GGUF %v, or not ErrMalformed)", name, err, g != nil)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %q does not mention %q", name, err, f)
		}
	}
}

// Headers: magic, versions, byte order.
func TestGGUFBadHeader(t *testing.T) {
	wantMalformed(t, "empty", nil, "magic")
	wantMalformed(t, "short magic", []byte("GGU"), "magic")
	wantMalformed(t, "wrong magic", []byte("GGML\x03\x00\x00\x00"), "magic")
	wantMalformed(t, "no version", []byte("GGUF\x03"), "version")
	wantMalformed(t, "v1", []byte("GGUF\x01\x00\x00\x00\x00\x00\x00\x00"), "version 1", "unsupported")
	wantMalformed(t, "v4", []byte("GGUF\x04\x00\x00\x00"), "version 4", "unsupported")
	wantMalformed(t, "big-endian", []byte("GGUF\x00\x00\x00\x03"), "big-endian")
	wantMalformed(t, "no counts", []byte("GGUF\x03\x00\x00\x00\x00"), "tensor count")
	if g, err := ParseGGUF(handGGUF(0, nil, nil, 0)); err != nil || len(g.Names()) != 0 {
		t.Errorf("empty v3 file: %v", err)
	}
	v2 := handGGUF(0, nil, nil, 0)
	v2[4] = 2
	if _, err := ParseGGUF(v2); err != nil {
		t.Errorf("empty v2 file: %v", err)
	}
}

// Metadata: counts and lengths past the end, unknown types, duplicates,
// nesting, bad bools and alignments.
func TestGGUFBadMetadata(t *testing.T) {
	u32 := func(v uint32) func(*ggufBytes) { return func(b *ggufBytes) { b.u32(v) } }
	huge := uint64(math.MaxUint64)
	wantMalformed(t, "kv count", handGGUF(0, nil, nil, 0)[:16:16], "metadata count")
	b := handGGUF(0, nil, nil, 0)
	binary.LittleEndian.PutUint64(b[16:], huge)
	wantMalformed(t, "huge kv count", b, "metadata count")
	binary.LittleEndian.PutUint64(b[16:], 0)
	binary.LittleEndian.PutUint64(b[8:], 1<<62)
	wantMalformed(t, "huge tensor count", b, "tensor count")

	keyLen := (&ggufBytes{}).u64(huge).b
	wantMalformed(t, "key length", handGGUF(1, keyLen, nil, 64), "metadata key 0 at offset 32 needs")
	strLen := kv("s", GGUFString, func(b *ggufBytes) { b.u64(1 << 40) })
	wantMalformed(t, "string length", handGGUF(1, strLen, nil, 0), "s at offset")
	arrLen := kv("a", GGUFArrayT, func(b *ggufBytes) { b.u32(uint32(GGUFUint8)).u64(huge) })
	wantMalformed(t, "array length", handGGUF(1, arrLen, nil, 0), "array length")
	strArr := kv("a", GGUFArrayT, func(b *ggufBytes) { b.u32(uint32(GGUFString)).u64(5).u64(0) })
	wantMalformed(t, "string array length", handGGUF(1, strArr, nil, 0), "array length 5")
	wantMalformed(t, "value type", handGGUF(1, kv("x", 13, u32(0)), nil, 0), "unknown value type 13")
	elem := kv("x", GGUFArrayT, func(b *ggufBytes) { b.u32(99).u64(0) })
	wantMalformed(t, "element type", handGGUF(1, elem, nil, 0), "unknown array element type 99")
	empty := kv("", GGUFUint8, func(b *ggufBytes) { b.u8(1) })
	wantMalformed(t, "empty key", handGGUF(1, empty, nil, 0), "empty key")
	boolean := kv("b", GGUFBool, func(b *ggufBytes) { b.u8(2) })
	wantMalformed(t, "bool", handGGUF(1, boolean, nil, 0), "bool value 2")
	dup := append(kv("d", GGUFUint32, u32(1)), kv("d", GGUFUint32, u32(2))...)
	wantMalformed(t, "duplicate key", handGGUF(2, dup, nil, 0), `duplicate metadata key "d"`)
	aligns := []struct {
		typ GGUFValueType
		val func(*ggufBytes)
	}{{GGUFUint32, u32(0)}, {GGUFUint32, u32(48)}, {GGUFUint64, func(b *ggufBytes) { b.u64(32) }}}
	for _, a := range aligns {
		wantMalformed(t, "alignment", handGGUF(1, kv("general.alignment", a.typ, a.val), nil, 0), "general.alignment")
	}
	// Nesting: 8 levels of arrays parse, 9 do not.
	nested := func(levels int) []byte {
		return kv("n", GGUFArrayT, func(b *ggufBytes) {
			for range levels - 1 {
				b.u32(uint32(GGUFArrayT)).u64(1)
			}
			b.u32(uint32(GGUFUint8)).u64(1).u8(7)
		})
	}
	if _, err := ParseGGUF(handGGUF(1, nested(8), nil, 0)); err != nil {
		t.Errorf("8 nested arrays: %v", err)
	}
	wantMalformed(t, "9 nested arrays", handGGUF(1, nested(9), nil, 0), "nested deeper than 8")
}

// Tensor infos: ranks, dims, types, offsets, sizes, duplicates, overlaps.
func TestGGUFBadTensors(t *testing.T) {
	f32 := uint32(GGMLF32)
	cases := []struct {
		name    string
		tensors []ggufTensorSpec
		data    int
		frag    string
	}{
		{"n_dims 0", []ggufTensorSpec{{"t", nil, f32, 0}}, 32, "0 dimensions"},
		{"n_dims 5", []ggufTensorSpec{{"t", []uint64{1, 1, 1, 1, 1}, f32, 0}}, 32, "5 dimensions"},
		{"dim 0", []ggufTensorSpec{{"t", []uint64{4, 0}, f32, 0}}, 32, "ne[1] = 0"},
		{"dim 2^63", []ggufTensorSpec{{"t", []uint64{1 << 63}, f32, 0}}, 32, "ne[0]"},
		{"elements overflow", []ggufTensorSpec{{"t", []uint64{1 << 32, 1 << 32}, f32, 0}}, 32, "too many elements"},
		{"bytes overflow", []ggufTensorSpec{{"t", []uint64{1 << 62}, f32, 0}}, 32, "2^63 bytes"},
		{"huge tensor", []ggufTensorSpec{{"t", []uint64{1 << 40}, f32, 0}}, 32, "ends past"},
		{"unknown type", []ggufTensorSpec{{"t", []uint64{4}, 4, 0}}, 32, "unknown ggml type 4"},
		{"unknown type 200", []ggufTensorSpec{{"t", []uint64{4}, 200, 0}}, 32, "unknown ggml type 200"},
		{"q8 row", []ggufTensorSpec{{"t", []uint64{33}, uint32(GGMLQ8_0), 0}}, 64, "block size 32"},
		{"misaligned", []ggufTensorSpec{{"t", []uint64{4}, f32, 4}}, 64, "alignment 32"},
		{"offset past end", []ggufTensorSpec{{"t", []uint64{4}, f32, 64}}, 64, "ends past"},
		{"offset overflow", []ggufTensorSpec{{"t", []uint64{8}, f32, math.MaxUint64 &^ 31}}, 64, "past any file"},
		{"offset near 2^63", []ggufTensorSpec{{"t", []uint64{8}, f32, math.MaxInt64 &^ 31}}, 64, "ends past"},
		{"truncated data", []ggufTensorSpec{{"t", []uint64{9}, f32, 0}}, 35, "ends past"},
		{"no data section", []ggufTensorSpec{{"t", []uint64{1}, f32, 0}}, -1, "past the end"},
		{"duplicate", []ggufTensorSpec{{"t", []uint64{1}, f32, 0}, {"t", []uint64{1}, f32, 32}}, 64, `duplicate tensor name "t"`},
		{"overlap", []ggufTensorSpec{{"a", []uint64{16}, f32, 0}, {"b", []uint64{1}, f32, 32}}, 64, "overlap"},
	}
	for _, c := range cases {
		data := handGGUF(0, nil, c.tensors, max(c.data, 0))
		if c.data < 0 { // cut the header padding too
			data = data[:len(data)-1]
		}
		frag := c.frag
		if strconv.IntSize == 32 && (c.name == "bytes overflow" || c.name == "huge tensor") {
			frag = "too many elements" // more elements than an int can count
		}
		wantMalformed(t, c.name, data, frag)
	}
	ok := []ggufTensorSpec{{"a", []uint64{8}, f32, 32}, {"b", []uint64{8}, f32, 0}}
	if _, err := ParseGGUF(handGGUF(0, nil, ok, 64)); err != nil {
		t.Errorf("out-of-order, adjacent tensors: %v", err)
	}
}

// Every prefix of a valid file that cuts into the header or the tensor data
// is rejected; prefixes that only drop trailing padding still parse.
func TestGGUFTruncated(t *testing.T) {
	data := buildTestGGUF(t)
	g, err := ParseGGUF(data)
	if err != nil {
		t.Fatal(err)
	}
	end := g.DataOffset()
	for _, ti := range g.Tensors() {
		end = max(end, g.DataOffset()+ti.Offset+ti.Size)
	}
	if end == int64(len(data)) {
		t.Fatalf("the test file has no trailing padding (%d bytes)", end)
	}
	for n := range len(data) {
		_, err := ParseGGUF(data[:n])
		switch {
		case int64(n) < end && !errors.Is(err, ErrMalformed):
			t.Fatalf("prefix of %d bytes (data ends at %d): %v", n, end, err)
		case int64(n) >= end && err != nil:
			t.Fatalf("prefix of %d bytes keeps every tensor, got %v", n, err)
		}
	}
}
