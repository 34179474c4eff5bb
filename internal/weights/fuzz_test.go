package weights

import (
	"bytes"
	"math"
	"testing"
)

// FuzzParseLlama2C: ParseLlama2C never panics; what it accepts is internally
// consistent, exactly as long as the header implies, and survives a legacy
// rewrite (WriteLlama2C then ParseLlama2C) bit for bit.
func FuzzParseLlama2C(f *testing.F) {
	small := Llama2CConfig{Dim: 4, HiddenDim: 3, Layers: 1, Heads: 2, KVHeads: 1, VocabSize: 3, SeqLen: 2}
	for _, version := range []int{0, 1} {
		for _, shared := range []bool{true, false} {
			f.Add(handWrite(randomModel(withShared(small, shared), 1), version))
		}
	}
	f.Add([]byte{})
	f.Add(legacyHeader([7]int32{1 << 20, 1 << 20, 1 << 20, 2, 2, 1 << 20, 1 << 20}, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseLlama2C(data)
		if err != nil {
			if m != nil {
				t.Fatal("non-nil model with an error")
			}
			return
		}
		c := m.Config
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		if m.Version == 0 && len(data) != legacyBytes(c) {
			t.Fatalf("accepted %d bytes, header implies %d", len(data), legacyBytes(c))
		}
		for l := range c.Layers {
			if len(m.LayerWQ(l)) != c.Dim*c.Dim || len(m.LayerWK(l)) != c.KVDim()*c.Dim ||
				len(m.LayerW2(l)) != c.Dim*c.HiddenDim {
				t.Fatalf("layer %d has wrong shapes for %+v", l, c)
			}
		}
		if len(m.WCls) != c.VocabSize*c.Dim || len(m.RMSFinal) != c.Dim {
			t.Fatalf("classifier or final norm has the wrong size for %+v", c)
		}
		var b bytes.Buffer
		if err := WriteLlama2C(&b, m); err != nil {
			t.Fatalf("WriteLlama2C of a parsed model: %v", err)
		}
		back, err := ParseLlama2C(b.Bytes())
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		for i, v := range back.WCls {
			if math.Float32bits(v) != math.Float32bits(m.WCls[i]) {
				t.Fatalf("WCls[%d] changed in the rewrite", i)
			}
		}
		checkSame(t, back, m)
	})
}
