package weights

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stBytes assembles a safetensors file by hand: the 8-byte little-endian
// length of header, header itself (written out by the test, not by the
// package), then data.
func stBytes(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// le32 is the little-endian bytes of float32 values.
func le32(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// le16 is the little-endian bytes of 16-bit patterns.
func le16(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

// Known half-precision bit patterns and their values, from the IEEE 754 and
// bfloat16 definitions (not from the package's converters).
var (
	f16Bits = []uint16{0x3C00, 0xC000, 0x3800, 0x7C00, 0x0001, 0x8000}
	f16Vals = []float32{1, -2, 0.5, float32(math.Inf(1)), 0x1p-24, float32(math.Copysign(0, -1))}
	bf16Bit = []uint16{0x3F80, 0xC040, 0x4049, 0x0000}
	bf16Val = []float32{1, -3, 3.140625, 0}
)

// sampleST is a file with F32 (2×3), F16 (6), BF16 (2×2), I64 (3), a scalar
// F32 and an empty F32 tensor, with a header of padTo-aligned length.
func sampleST(padTo int) []byte {
	w := le32(1, 2, 3, 4, 5, 6) // [0, 24)
	h := le16(f16Bits...)       // [24, 36)
	bf := le16(bf16Bit...)      // [36, 44)
	i64 := make([]byte, 24)     // [44, 68)
	sc := le32(-7.5)            // [68, 72)
	data := slices.Concat(w, h, bf, i64, sc)
	header := `{"__metadata__":{"format":"pt"},` +
		`"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},` +
		`"h":{"dtype":"F16","shape":[6],"data_offsets":[24,36]},` +
		`"bf":{"dtype":"BF16","shape":[2,2],"data_offsets":[36,44]},` +
		`"idx":{"dtype":"I64","shape":[3],"data_offsets":[44,68]},` +
		`"scalar":{"dtype":"F32","shape":[],"data_offsets":[68,72]},` +
		`"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[72,72]}}`
	for padTo > 0 && (8+len(header))%padTo != 0 {
		header += " "
	}
	return stBytes(header, data)
}

func checkSample(t *testing.T, s *Safetensors) {
	t.Helper()
	if got, want := s.Names(), []string{"w", "h", "bf", "idx", "scalar", "empty"}; !slices.Equal(got, want) {
		t.Fatalf("Names = %v, want %v", got, want)
	}
	if m := s.Metadata(); m["format"] != "pt" || len(m) != 1 {
		t.Errorf("Metadata = %v", m)
	}
	for _, c := range []struct {
		name  string
		shape []int
		dtype string
		vals  []float32
	}{
		{"w", []int{2, 3}, "F32", []float32{1, 2, 3, 4, 5, 6}},
		{"h", []int{6}, "F16", f16Vals},
		{"bf", []int{2, 2}, "BF16", bf16Val},
		{"scalar", []int{}, "F32", []float32{-7.5}},
		{"empty", []int{0, 5}, "F32", nil},
	} {
		shape, dtype, ok := s.Info(c.name)
		if !ok || dtype != c.dtype || !slices.Equal(shape, c.shape) {
			t.Errorf("Info(%q) = %v %q %v, want %v %q", c.name, shape, dtype, ok, c.shape, c.dtype)
		}
		got, err := s.F32(c.name, c.shape...)
		if err != nil {
			t.Errorf("F32(%q): %v", c.name, err)
			continue
		}
		if len(got) != len(c.vals) {
			t.Errorf("F32(%q) has %d values, want %d", c.name, len(got), len(c.vals))
			continue
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(c.vals[i]) {
				t.Errorf("F32(%q)[%d] = %v, want %v", c.name, i, got[i], c.vals[i])
			}
		}
	}
	if shape, dtype, ok := s.Info("idx"); !ok || dtype != "I64" || !slices.Equal(shape, []int{3}) {
		t.Errorf("Info(idx) = %v %q %v", shape, dtype, ok)
	}
	if _, err := s.F32("idx"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "unsupported dtype") {
		t.Errorf("F32(I64 tensor) error = %v, want ErrUnsupported naming the dtype", err)
	}
	if _, err := s.F32("w", 3, 2); !errors.Is(err, ErrShape) {
		t.Errorf("F32 with the wrong shape: %v, want ErrShape", err)
	}
	if _, err := s.F32("w", 6); !errors.Is(err, ErrShape) {
		t.Errorf("F32 with the wrong rank: %v, want ErrShape", err)
	}
	if _, err := s.F32("nope"); !errors.Is(err, ErrNoTensor) {
		t.Errorf("F32 of a missing tensor: %v, want ErrNoTensor", err)
	}
	if _, _, ok := s.Info("nope"); ok {
		t.Error("Info of a missing tensor is ok")
	}
}

// TestSafetensorsRoundTrip: hand-built files read back exactly, through the
// aliasing path (8-aligned header) and the copying path (odd header length),
// from memory and from a mapped file.
func TestSafetensorsRoundTrip(t *testing.T) {
	for _, pad := range []int{8, 0} {
		data := sampleST(pad)
		s, err := ParseSafetensors(data)
		if err != nil {
			t.Fatalf("pad %d: ParseSafetensors: %v", pad, err)
		}
		checkSample(t, s)

		path := filepath.Join(t.TempDir(), "model.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := OpenSafetensors(path)
		if err != nil {
			t.Fatalf("pad %d: OpenSafetensors: %v", pad, err)
		}
		checkSample(t, f)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := f.F32("w"); err == nil {
			t.Error("F32 after Close succeeded")
		}
	}
}

// TestSafetensorsShapeMutation: a returned F32 copy is the caller's, and
// Info's shape cannot change the file's.
func TestSafetensorsInfoIsACopy(t *testing.T) {
	s, err := ParseSafetensors(sampleST(8))
	if err != nil {
		t.Fatal(err)
	}
	shape, _, _ := s.Info("w")
	shape[0] = 99
	if again, _, _ := s.Info("w"); again[0] != 2 {
		t.Fatal("Info returned the internal shape slice")
	}
	names := s.Names()
	names[0] = "x"
	if s.Names()[0] != "w" {
		t.Fatal("Names returned the internal slice")
	}
}

// writeShards writes a sharded checkpoint: shard A holds "a.w" (2×2 F32) and
// "a.b" (2 BF16), shard B holds "b.w" (3 F16); index maps them. Copies of
// shard A lie in a subdirectory and next to the checkpoint directory.
func writeShards(t *testing.T, index string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "ckpt")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := stBytes(`{"a.w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},`+
		`"a.b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}}`,
		slices.Concat(le32(1, 2, 3, 4), le16(0x3F80, 0xC040)))
	b := stBytes(`{"__metadata__":{},"b.w":{"dtype":"F16","shape":[3],"data_offsets":[0,6]}}`, le16(0x3C00, 0xC000, 0x3800))
	for name, data := range map[string][]byte{
		"model-00001-of-00002.safetensors":     a,
		"model-00002-of-00002.safetensors":     b,
		"model.safetensors.index.json":         []byte(index),
		"unrelated-00009-of-00009.safetensors": []byte("not read"),
		"sub/a.safetensors":                    a, // valid shards outside the directory's top level
		"../escape.safetensors":                a,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodIndex = `{"metadata":{"total_size":26},"weight_map":{` +
	`"a.w":"model-00001-of-00002.safetensors","a.b":"model-00001-of-00002.safetensors",` +
	`"b.w":"model-00002-of-00002.safetensors"}}`

// TestOpenHFDirSharded: the shards of an index read as one Source.
func TestOpenHFDirSharded(t *testing.T) {
	s, err := OpenHFDir(writeShards(t, goodIndex))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Names(); !slices.Equal(got, []string{"a.w", "a.b", "b.w"}) {
		t.Fatalf("Names = %v", got)
	}
	for name, want := range map[string][]float32{"a.w": {1, 2, 3, 4}, "a.b": {1, -3}, "b.w": {1, -2, 0.5}} {
		got, err := s.F32(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("F32(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
}

// TestOpenHFDirSingle: without an index, model.safetensors is read; with
// neither, the error says so.
func TestOpenHFDirSingle(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenHFDir(dir); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Fatalf("empty dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), sampleST(8), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenHFDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSample(t, s)
}

// TestOpenHFDirHostile: bad indexes and inconsistent shards are errors.
func TestOpenHFDirHostile(t *testing.T) {
	for _, c := range []struct{ name, index string }{
		{"bad json", `{"weight_map":`},
		{"weight_map wrong type", `{"weight_map":[1,2]}`},
		{"empty weight_map", `{"weight_map":{}}`},
		{"path escape", `{"weight_map":{"a.w":"../escape.safetensors","a.b":"../escape.safetensors"}}`},
		{"subdirectory", `{"weight_map":{"a.w":"sub/a.safetensors","a.b":"sub/a.safetensors"}}`},
		{"swapped shards", `{"weight_map":{"a.w":"model-00002-of-00002.safetensors","b.w":"model-00001-of-00002.safetensors"}}`},
		{"absolute", `{"weight_map":{"a.w":"/etc/passwd"}}`},
		{"dot dot", `{"weight_map":{"a.w":".."}}`},
		{"missing shard", `{"weight_map":{"a.w":"model-00003-of-00002.safetensors"}}`},
		{"wrong shard", `{"weight_map":{"a.w":"model-00002-of-00002.safetensors"}}`},
		{"missing tensor", `{"weight_map":{"zz":"model-00001-of-00002.safetensors"}}`},
		{"not safetensors", `{"weight_map":{"a.w":"unrelated-00009-of-00009.safetensors"}}`},
	} {
		s, err := OpenHFDir(writeShards(t, c.index))
		if err == nil {
			s.Close()
			t.Errorf("%s: no error", c.name)
			continue
		}
		// Shard names with a path are refused before anything is opened.
		if strings.Contains(c.index, "/") && !strings.Contains(err.Error(), "not a file name") {
			t.Errorf("%s: %v, want the shard name refused", c.name, err)
		}
	}
	// The same tensor name in two shards.
	dir := writeShards(t, goodIndex)
	dup := stBytes(`{"a.w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, le32(9))
	if err := os.WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), dup, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenHFDir(dir); err == nil || !errors.Is(err, ErrMalformed) {
		if s != nil {
			s.Close()
		}
		t.Errorf("duplicate tensor across shards: %v", err)
	}
}
