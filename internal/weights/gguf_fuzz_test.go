package weights

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzParseGGUF: ParseGGUF never panics; what it accepts is consistent (each
// tensor's shape, type and size agree, supported types decode to as many
// values as the shape holds) and its metadata survives a rewrite with
// GGUFWriter byte for byte.
func FuzzParseGGUF(f *testing.F) {
	f.Add(ggufFuzzSeed())
	f.Add(handGGUF(0, nil, nil, 0))
	f.Add(handGGUF(1, kv("general.alignment", GGUFUint32, func(b *ggufBytes) { b.u32(8) }),
		[]ggufTensorSpec{{"q", []uint64{32, 1}, uint32(GGMLQ8_0), 0}, {"h", []uint64{3}, uint32(GGMLF16), 40}}, 48))
	f.Add([]byte("GGUF\x02\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGGUF(data)
		if err != nil {
			if g != nil {
				t.Fatal("non-nil GGUF with an error")
			}
			return
		}
		for _, ti := range g.Tensors() {
			shape, dtype, ok := g.Info(ti.Name)
			if !ok || !slices.Equal(shape, ti.Shape) || dtype != ti.Type.String() {
				t.Fatalf("Info(%q) disagrees with Tensors()", ti.Name)
			}
			n := 1
			for _, d := range shape {
				n *= d
			}
			l := ggmlTypes[ti.Type]
			if int64(n)/l.blockSize*l.typeSize != ti.Size || ti.Offset%int64(g.Alignment()) != 0 {
				t.Fatalf("tensor %q: shape %v, type %v, size %d, offset %d", ti.Name, shape, ti.Type, ti.Size, ti.Offset)
			}
			if ti.Size > 1<<20 {
				continue // keep the fuzzer fast
			}
			vals, err := g.F32(ti.Name, shape...)
			switch ti.Type {
			case GGMLF32, GGMLF16, GGMLBF16, GGMLQ8_0:
				if err != nil || len(vals) != n {
					t.Fatalf("F32(%q): %d values of %d, %v", ti.Name, len(vals), n, err)
				}
			default:
				if err == nil {
					t.Fatalf("F32(%q) of %v succeeded", ti.Name, ti.Type)
				}
			}
		}
		once := rewriteMetadata(t, g)
		g2, err := ParseGGUF(once)
		if err != nil {
			t.Fatalf("reparse of the rewritten metadata: %v", err)
		}
		if !slices.Equal(g2.Keys(), g.Keys()) || !bytes.Equal(rewriteMetadata(t, g2), once) {
			t.Fatal("metadata changed in a rewrite")
		}
	})
}

// rewriteMetadata writes g's metadata (no tensors) with GGUFWriter.
func rewriteMetadata(t *testing.T, g *GGUF) []byte {
	w := NewGGUFWriter()
	for _, kv := range g.Metadata() {
		if err := w.SetValue(kv.Key, kv.Value); err != nil {
			t.Fatalf("SetValue(%q, %v): %v", kv.Key, kv.Type, err)
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return b.Bytes()
}

// ggufFuzzSeed is a small writer file with every writable dtype.
func ggufFuzzSeed() []byte {
	w := NewGGUFWriter()
	w.SetString("general.architecture", "llama")
	w.SetStrings("tokenizer.ggml.tokens", []string{"a", "b"})
	w.SetValue("n", GGUFArray{GGUFArrayT, []GGUFArray{{GGUFInt8, []int8{-1}}}})
	w.AddTensor("f", []int{2, 3}, "F32", make([]float32, 6))
	w.AddTensor("h", []int{3}, "F16", []float32{1, 2, 3})
	w.AddTensor("b", []int{1, 2}, "BF16", []float32{1, 2})
	w.AddTensor("q", []int{32}, "Q8_0", make([]float32, 32))
	var b bytes.Buffer
	w.WriteTo(&b)
	return b.Bytes()
}
