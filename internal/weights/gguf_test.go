package weights

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/kernels"
)

// ggufTestTensor is one tensor of the round-trip file.
type ggufTestTensor struct {
	name  string
	shape []int // PyTorch order
	dtype string
	data  []float32
}

// ggufTestMeta is every metadata type, set through SetValue, in order.
var ggufTestMeta = []GGUFKV{
	{"general.architecture", GGUFString, "llama"},
	{"t.u8", GGUFUint8, uint8(250)},
	{"t.i8", GGUFInt8, int8(-7)},
	{"t.u16", GGUFUint16, uint16(65000)},
	{"t.i16", GGUFInt16, int16(-30000)},
	{"t.u32", GGUFUint32, uint32(4000000000)},
	{"t.i32", GGUFInt32, int32(-2000000000)},
	{"t.f32", GGUFFloat32, float32(1.5e-5)},
	{"t.bool", GGUFBool, true},
	{"t.false", GGUFBool, false},
	{"t.str", GGUFString, "héllo ▁wörld"},
	{"t.empty", GGUFString, ""},
	{"t.u64", GGUFUint64, uint64(math.MaxUint64)},
	{"t.i64", GGUFInt64, int64(math.MinInt64)},
	{"t.f64", GGUFFloat64, math.Pi},
	{"t.a.u8", GGUFArrayT, GGUFArray{GGUFUint8, []uint8{0, 1, 255}}},
	{"t.a.i8", GGUFArrayT, GGUFArray{GGUFInt8, []int8{-128, 127}}},
	{"t.a.u16", GGUFArrayT, GGUFArray{GGUFUint16, []uint16{1, 65535}}},
	{"t.a.i16", GGUFArrayT, GGUFArray{GGUFInt16, []int16{-1, 2}}},
	{"t.a.u32", GGUFArrayT, GGUFArray{GGUFUint32, []uint32{7}}},
	{"t.a.i32", GGUFArrayT, GGUFArray{GGUFInt32, []int32{-3, 0, 3}}},
	{"t.a.f32", GGUFArrayT, GGUFArray{GGUFFloat32, []float32{0.25, -1e30}}},
	{"t.a.bool", GGUFArrayT, GGUFArray{GGUFBool, []bool{true, false, true}}},
	{"t.a.str", GGUFArrayT, GGUFArray{GGUFString, []string{"<s>", "a", "", "▁the"}}},
	{"t.a.u64", GGUFArrayT, GGUFArray{GGUFUint64, []uint64{1 << 63}}},
	{"t.a.i64", GGUFArrayT, GGUFArray{GGUFInt64, []int64{-1 << 40}}},
	{"t.a.f64", GGUFArrayT, GGUFArray{GGUFFloat64, []float64{1e300, -0.5}}},
	{"t.a.empty", GGUFArrayT, GGUFArray{GGUFFloat32, []float32{}}},
	{"t.a.nested", GGUFArrayT, GGUFArray{GGUFArrayT, []GGUFArray{
		{GGUFInt32, []int32{1, 2}},
		{GGUFString, []string{"x"}},
		{GGUFArrayT, []GGUFArray{{GGUFUint8, []uint8{9}}}},
	}}},
}

// ggufTestTensors are odd shapes of every writable dtype.
func ggufTestTensors() []ggufTestTensor {
	r := rand.New(rand.NewPCG(3, 5))
	vec := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
		}
		return v
	}
	half := vec(15, 1)
	// Rounding edge cases: subnormal, overflow to Inf, a tie, -0.
	copy(half, []float32{1e-7, 70000, 1 + 1.0/2048, float32(math.Copysign(0, -1))})
	q8 := vec(2*3*64, 3)
	clear(q8[64:128]) // an all-zero block: d = 0
	return []ggufTestTensor{
		{"f32.vec", []int{7}, "F32", vec(7, 1)},
		{"f32.4d", []int{2, 3, 1, 5}, "F32", vec(30, 1)},
		{"f16.mat", []int{3, 5}, "F16", half},
		{"bf16.3d", []int{2, 3, 7}, "BF16", vec(42, 100)},
		{"q8.3d", []int{2, 3, 64}, "Q8_0", q8},
		{"q8.1d", []int{32}, "q8_0", vec(32, 1e-3)},
		{"f16.4d", []int{1, 2, 1, 3}, "f16", vec(6, 1)},
	}
}

// buildTestGGUF writes the round-trip file.
func buildTestGGUF(t *testing.T) []byte {
	t.Helper()
	w := NewGGUFWriter()
	for _, kv := range ggufTestMeta {
		if err := w.SetValue(kv.Key, kv.Value); err != nil {
			t.Fatalf("SetValue(%s): %v", kv.Key, err)
		}
	}
	for _, tt := range ggufTestTensors() {
		if err := w.AddTensor(tt.name, tt.shape, tt.dtype, tt.data); err != nil {
			t.Fatalf("AddTensor(%s): %v", tt.name, err)
		}
	}
	var b bytes.Buffer
	n, err := w.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo: %d bytes, %v (buffer has %d)", n, err, b.Len())
	}
	return b.Bytes()
}

// checkGGUFTensor compares a decoded tensor with the values written: F32
// exact, F16/BF16 bit-equal to the RNE-rounded values, Q8_0 within half a
// quantisation step (plus the rounding of the scale d to float16).
func checkGGUFTensor(t *testing.T, tt ggufTestTensor, got []float32) {
	t.Helper()
	if len(got) != len(tt.data) {
		t.Fatalf("%s: %d values, want %d", tt.name, len(got), len(tt.data))
	}
	for i, x := range tt.data {
		var want float32
		switch strings.ToUpper(tt.dtype) {
		case "F32":
			want = x
		case "F16":
			want = kernels.F16ToF32(kernels.F32ToF16(x))
		case "BF16":
			want = kernels.BF16ToF32(kernels.F32ToBF16(x))
		case "Q8_0":
			blk := tt.data[i/32*32 : i/32*32+32]
			amax := 0.0
			for _, v := range blk {
				amax = max(amax, math.Abs(float64(v)))
			}
			d := amax / 127
			d16 := float64(kernels.F16ToF32(kernels.F32ToF16(float32(d))))
			tol := d16/2 + 127*math.Abs(d-d16) + 1e-12
			if diff := math.Abs(float64(got[i]) - float64(x)); diff > tol {
				t.Fatalf("%s[%d] = %v, want %v ± %g", tt.name, i, got[i], x, tol)
			}
			continue
		}
		if math.Float32bits(got[i]) != math.Float32bits(want) {
			t.Fatalf("%s[%d] = %v, want %v", tt.name, i, got[i], want)
		}
	}
}

// The writer's file parses back to the same metadata (order, types, values)
// and tensors (names, shapes, types, values); F32 works on a misaligned copy.
func TestGGUFRoundTrip(t *testing.T) {
	data := buildTestGGUF(t)
	misaligned := make([]byte, len(data)+1)
	copy(misaligned[1:], data)
	for _, buf := range [][]byte{data, misaligned[1:]} {
		g, err := ParseGGUF(buf)
		if err != nil {
			t.Fatalf("ParseGGUF: %v", err)
		}
		if g.Version() != 3 || g.Alignment() != 32 || g.DataOffset()%32 != 0 {
			t.Errorf("version %d, alignment %d, data offset %d", g.Version(), g.Alignment(), g.DataOffset())
		}
		if got := g.Metadata(); !reflect.DeepEqual(got, ggufTestMeta) {
			t.Errorf("metadata:\n got %v\nwant %v", got, ggufTestMeta)
		}
		tensors := ggufTestTensors()
		var names []string
		for _, tt := range tensors {
			names = append(names, tt.name)
			shape, dtype, ok := g.Info(tt.name)
			if !ok || !slices.Equal(shape, tt.shape) || dtype != strings.ToUpper(tt.dtype) {
				t.Errorf("Info(%s) = %v %s %v, want %v %s", tt.name, shape, dtype, ok, tt.shape, tt.dtype)
			}
			got, err := g.F32(tt.name, tt.shape...)
			if err != nil {
				t.Fatalf("F32(%s): %v", tt.name, err)
			}
			checkGGUFTensor(t, tt, got)
		}
		if !slices.Equal(g.Names(), names) {
			t.Errorf("Names() = %v, want %v", g.Names(), names)
		}
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

// A file built byte by byte from the GGUF spec (not by GGUFWriter) reads
// back with PyTorch-order shapes and the exact values of each encoding.
func TestGGUFHandBuilt(t *testing.T) {
	b := ggufBytes{}
	b.raw("GGUF").u32(2).u64(4).u64(2)
	b.str("general.alignment").u32(uint32(GGUFUint32)).u32(8)
	b.str("k").u32(uint32(GGUFArrayT)).u32(uint32(GGUFInt16)).u64(2).u16(0xfffe).u16(3)
	b.str("m").u32(2).u64(3).u64(2).u32(0).u64(0)   // F32 ne [3,2]: (2, 3), 24 bytes
	b.str("h").u32(1).u64(2).u32(1).u64(24)         // F16 (2)
	b.str("bf").u32(1).u64(2).u32(30).u64(32)       // BF16 (2)
	b.str("q").u32(2).u64(32).u64(1).u32(8).u64(40) // Q8_0 ne [32,1]: (1, 32)
	b.pad(8)
	for _, v := range []float32{1, 2, 3, 4, 5, 6} {
		b.u32(math.Float32bits(v))
	}
	b.u16(0x3c00).u16(0xc000).pad(8) // 1, -2
	b.u16(0x3f80).u16(0xbfc0).pad(8) // 1, -1.5
	b.u16(0x3800)                    // d = 0.5
	for j := range 32 {
		b.u8(uint8(int8(j - 16)))
	}
	g, err := ParseGGUF(b.b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Alignment() != 8 || g.Version() != 2 {
		t.Errorf("alignment %d version %d", g.Alignment(), g.Version())
	}
	if ints, ok := g.GetInts("k"); !ok || !slices.Equal(ints, []int64{-2, 3}) {
		t.Errorf("GetInts(k) = %v %v", ints, ok)
	}
	want := map[string][]float32{"m": {1, 2, 3, 4, 5, 6}, "h": {1, -2}, "bf": {1, -1.5}}
	var q []float32
	for j := range 32 {
		q = append(q, float32(j-16)/2)
	}
	want["q"] = q
	shapes := map[string][]int{"m": {2, 3}, "h": {2}, "bf": {2}, "q": {1, 32}}
	for name, w := range want {
		got, err := g.F32(name, shapes[name]...)
		if err != nil || !slices.Equal(got, w) {
			t.Errorf("F32(%s) = %v %v, want %v", name, got, err, w)
		}
	}
}

// Source errors: unknown names, shape mismatches, unsupported types.
func TestGGUFSourceErrors(t *testing.T) {
	g, err := ParseGGUF(buildTestGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	var src Source = g
	if _, err := src.F32("nope"); !errors.Is(err, ErrNoTensor) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown name: %v", err)
	}
	if _, _, ok := src.Info("nope"); ok {
		t.Error("Info of an unknown name is ok")
	}
	for _, want := range [][]int{{5, 3}, {3, 5, 1}, {15}} {
		_, err := src.F32("f16.mat", want...)
		if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), `"f16.mat"`) {
			t.Errorf("F32(f16.mat, %v): %v", want, err)
		}
	}
	if _, err := src.F32("f16.mat"); err != nil {
		t.Errorf("no shape check: %v", err)
	}
	b := ggufBytes{}
	b.raw("GGUF").u32(3).u64(1).u64(0)
	b.str("q4").u32(1).u64(32).u32(uint32(GGMLQ4_0)).u64(0).pad(32)
	b.raw(string(make([]byte, 18)))
	q4, err := ParseGGUF(b.b)
	if err != nil {
		t.Fatal(err)
	}
	if _, dtype, _ := q4.Info("q4"); dtype != "Q4_0" {
		t.Errorf("Q4_0 dtype %q", dtype)
	}
	if _, err := q4.F32("q4"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Q4_0") {
		t.Errorf("Q4_0: %v", err)
	}
}

// OpenGGUF maps a file, names the path in errors, and closes twice.
func TestOpenGGUF(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if err := os.WriteFile(path, buildTestGGUF(t), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := OpenGGUF(path)
	if err != nil {
		t.Fatal(err)
	}
	tt := ggufTestTensors()[1]
	got, err := g.F32(tt.name, tt.shape...)
	if err != nil {
		t.Fatal(err)
	}
	checkGGUFTensor(t, tt, got)
	if err := g.Close(); err != nil {
		t.Error(err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGUF\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenGGUF(bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), bad) {
		t.Errorf("v1 file: %v", err)
	}
	if _, err := OpenGGUF(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
