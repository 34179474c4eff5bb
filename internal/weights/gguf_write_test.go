package weights

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

// The writer rejects what it cannot write.
func TestGGUFWriterRejects(t *testing.T) {
	w := NewGGUFWriter()
	bad := []struct {
		name  string
		shape []int
		dtype string
		n     int
	}{
		{"q8 row 33", []int{2, 33}, "Q8_0", 66},
		{"q8 row 16", []int{16}, "Q8_0", 16},
		{"5 dims", []int{1, 1, 1, 1, 2}, "F32", 2},
		{"0 dims", nil, "F32", 1},
		{"zero dim", []int{0, 3}, "F32", 0},
		{"length", []int{2, 3}, "F32", 5},
		{"dtype", []int{2}, "Q4_0", 2},
	}
	for _, c := range bad {
		if err := w.AddTensor(c.name, c.shape, c.dtype, make([]float32, c.n)); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	nan := make([]float32, 32)
	nan[3] = float32(math.NaN())
	if err := w.AddTensor("nan", []int{32}, "Q8_0", nan); err == nil {
		t.Error("Q8_0 of NaN accepted")
	}
	if err := w.AddTensor("ok", []int{64}, "Q8_0", make([]float32, 64)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensor("ok", []int{1}, "F32", []float32{1}); err == nil {
		t.Error("duplicate tensor accepted")
	}
	for _, v := range []any{map[string]int{}, []any{1}, GGUFArray{GGUFInt32, []uint8{1}},
		GGUFArray{GGUFArrayT, []int32{1}}, [][]int32{{1}}, nil} {
		if err := w.SetValue("k", v); err == nil {
			t.Errorf("SetValue(%#v) accepted", v)
		}
	}
	w.SetString("", "x")
	if _, err := w.WriteTo(&bytes.Buffer{}); err == nil {
		t.Error("empty key accepted")
	}
	w2 := NewGGUFWriter()
	w2.SetInt32("general.alignment", 32)
	if _, err := w2.WriteTo(&bytes.Buffer{}); err == nil {
		t.Error("int32 general.alignment accepted")
	}
}

// A custom alignment lays the data out on that boundary; re-setting a key
// keeps its position.
func TestGGUFWriterAlignment(t *testing.T) {
	w := NewGGUFWriter()
	w.SetUint32("general.alignment", 7) // replaced below, so never invalid on write
	w.SetString("b", "x")
	w.SetUint32("general.alignment", 64)
	for i, n := range []int{3, 17, 1} {
		if err := w.AddTensor(string(rune('a'+i)), []int{n}, "F32", make([]float32, n)); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	g, err := ParseGGUF(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.Alignment() != 64 || g.DataOffset()%64 != 0 || !slices.Equal(g.Keys(), []string{"general.alignment", "b"}) {
		t.Errorf("alignment %d, data offset %d, keys %v", g.Alignment(), g.DataOffset(), g.Keys())
	}
	var offs []int64
	for _, ti := range g.Tensors() {
		offs = append(offs, ti.Offset)
	}
	if !slices.Equal(offs, []int64{0, 64, 192}) {
		t.Errorf("offsets %v, want [0 64 192]", offs)
	}
}

// Q8_0 bytes are ggml's block layout: float16 d = max|x|/127, then the 32
// quants round(x/d), with ties away from zero as C's roundf.
func TestGGUFWriterQ8Bytes(t *testing.T) {
	x := make([]float32, 64)
	want := []byte{0x00, 0x38} // block 0: d = 63.5/127 = 0.5
	for j := range 32 {
		q := int8(j*8 - 127) // -127, -119, …, 121
		x[j] = float32(q) / 2
		want = append(want, byte(q))
	}
	x[31] = 63.5 // q = 127
	want[2+31] = 127
	want = append(want, 0x00, 0x3c) // block 1: d = 127/127 = 1
	for j := range 32 {
		x[32+j] = float32(j%5) - 1.5 // ties -1.5 … 2.5 round away from zero
		want = append(want, byte([]int8{-2, -1, 1, 2, 3}[j%5]))
	}
	x[63], want[len(want)-1] = 127, 127
	w := NewGGUFWriter()
	if err := w.AddTensor("q", []int{2, 32}, "Q8_0", x); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	g, err := ParseGGUF(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := g.TensorData("q"); !bytes.Equal(got, want) {
		t.Errorf("Q8_0 bytes\n got %v\nwant %v", got, want)
	}
}
