package weights

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	ggufparser "github.com/gpustack/gguf-parser-go"
)

// An independent GGUF parser (github.com/gpustack/gguf-parser-go, a test
// dependency only) reads the file GGUFWriter wrote: version, metadata order,
// types and values, tensor names, dims (GGUF order), types, offsets and the
// data section start all agree with what we wrote and with ParseGGUF.
func TestGGUFIndependentParser(t *testing.T) {
	data := buildTestGGUF(t)
	path := filepath.Join(t.TempDir(), "check.gguf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	theirs, err := ggufparser.ParseGGUFFile(path)
	if err != nil {
		t.Fatalf("gguf-parser-go: %v", err)
	}
	ours, err := ParseGGUF(data)
	if err != nil {
		t.Fatal(err)
	}
	h := theirs.Header
	if h.Magic != ggufparser.GGUFMagicGGUFLe || h.Version != ggufparser.GGUFVersionV3 {
		t.Errorf("magic %v version %v, want GGUF little-endian v3", h.Magic, h.Version)
	}
	if int(h.MetadataKVCount) != len(ggufTestMeta) || len(h.MetadataKV) != len(ggufTestMeta) {
		t.Fatalf("%d metadata entries (%d listed), want %d", h.MetadataKVCount, len(h.MetadataKV), len(ggufTestMeta))
	}
	for i, want := range ggufTestMeta {
		got := h.MetadataKV[i]
		if got.Key != want.Key || uint32(got.ValueType) != uint32(want.Type) {
			t.Errorf("entry %d: %s %v, want %s %v", i, got.Key, got.ValueType, want.Key, want.Type)
			continue
		}
		if g, w := theirValue(got.Value), ourValue(want.Value); !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %v, want %v", want.Key, g, w)
		}
	}
	tensors := ggufTestTensors()
	if int(h.TensorCount) != len(tensors) || len(theirs.TensorInfos) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(theirs.TensorInfos), len(tensors))
	}
	if theirs.TensorDataStartOffset != ours.DataOffset() {
		t.Errorf("tensor data starts at %d, ParseGGUF says %d", theirs.TensorDataStartOffset, ours.DataOffset())
	}
	wantType := map[string]ggufparser.GGMLType{"F32": ggufparser.GGMLTypeF32, "F16": ggufparser.GGMLTypeF16,
		"BF16": ggufparser.GGMLTypeBF16, "Q8_0": ggufparser.GGMLTypeQ8_0}
	var off uint64
	for i, tt := range tensors {
		ti := theirs.TensorInfos[i]
		ne := make([]uint64, len(tt.shape)) // GGUF order: innermost first
		for j, d := range tt.shape {
			ne[len(ne)-1-j] = uint64(d)
		}
		typ := wantType[strings.ToUpper(tt.dtype)]
		if ti.Name != tt.name || !slices.Equal(ti.Dimensions, ne) || ti.Type != typ || ti.Offset != off {
			t.Errorf("tensor %d: %s %v %v @%d, want %s %v %v @%d",
				i, ti.Name, ti.Dimensions, ti.Type, ti.Offset, tt.name, ne, typ, off)
		}
		size := ti.Bytes()
		if ours, _ := ours.TensorInfo(tt.name); uint64(ours.Size) != size || uint64(ours.Offset) != ti.Offset {
			t.Errorf("%s: ParseGGUF says %d bytes @%d, gguf-parser-go %d @%d", tt.name, ours.Size, ours.Offset, size, ti.Offset)
		}
		off += (size + 31) / 32 * 32
	}
}

// theirValue turns a gguf-parser-go metadata value into a comparable form:
// scalars as themselves (strings are trimmed: that parser trims spaces),
// arrays as "[]type" followed by their elements.
func theirValue(v any) any {
	switch x := v.(type) {
	case ggufparser.GGUFMetadataKVArrayValue:
		out := []any{fmt.Sprintf("[]%v", uint32(x.Type))}
		for _, e := range x.Array {
			out = append(out, theirValue(e))
		}
		return out
	case string:
		return strings.TrimSpace(x)
	}
	return v
}

// ourValue is theirValue for our GGUFKV values.
func ourValue(v any) any {
	switch x := v.(type) {
	case GGUFArray:
		out := []any{fmt.Sprintf("[]%v", uint32(x.Elem))}
		rv := reflect.ValueOf(x.Values)
		for i := range rv.Len() {
			out = append(out, ourValue(rv.Index(i).Interface()))
		}
		return out
	case string:
		return strings.TrimSpace(x)
	}
	return v
}
