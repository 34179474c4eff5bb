package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// Test configurations: GQA, MHA, one layer, unequal hidden size.
var testConfigs = []Llama2CConfig{
	{Dim: 8, HiddenDim: 12, Layers: 2, Heads: 4, KVHeads: 2, VocabSize: 10, SeqLen: 6},
	{Dim: 6, HiddenDim: 5, Layers: 1, Heads: 3, KVHeads: 3, VocabSize: 7, SeqLen: 3},
	{Dim: 16, HiddenDim: 40, Layers: 3, Heads: 2, KVHeads: 1, VocabSize: 33, SeqLen: 9},
}

// withShared returns cfg with SharedClassifier set to shared.
func withShared(cfg Llama2CConfig, shared bool) Llama2CConfig {
	cfg.SharedClassifier = shared
	return cfg
}

// randomModel fills every tensor of cfg with random values, sized from the
// shapes written out by hand (not from the package's size table).
func randomModel(cfg Llama2CConfig, seed uint64) *Llama2C {
	r := rand.New(rand.NewPCG(seed, 7))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	D, H, L, V := cfg.Dim, cfg.HiddenDim, cfg.Layers, cfg.VocabSize
	kv := D * cfg.KVHeads / cfg.Heads
	m := &Llama2C{
		Config:         cfg,
		TokenEmbedding: vec(V * D),
		RMSAtt:         vec(L * D),
		WQ:             vec(L * D * D),
		WK:             vec(L * kv * D),
		WV:             vec(L * kv * D),
		WO:             vec(L * D * D),
		RMSFFN:         vec(L * D),
		W1:             vec(L * H * D),
		W2:             vec(L * D * H),
		W3:             vec(L * H * D),
		RMSFinal:       vec(D),
	}
	if cfg.SharedClassifier {
		m.WCls = m.TokenEmbedding
	} else {
		m.WCls = vec(V * D)
	}
	return m
}

// handWrite encodes m independently of the package's layout table, in the
// order the brief and llama2.c's export.py give: version 0 is legacy_export
// (freq_cis filled with the marker value 42), version 1 is version1_export.
func handWrite(m *Llama2C, version int) []byte {
	c := m.Config
	var b bytes.Buffer
	put := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	vocab := int32(c.VocabSize)
	if version == 0 && !c.SharedClassifier {
		vocab = -vocab
	}
	params := []int32{int32(c.Dim), int32(c.HiddenDim), int32(c.Layers), int32(c.Heads),
		int32(c.KVHeads), vocab, int32(c.SeqLen)}
	if version == 1 {
		put(uint32(0x616b3432))
		put(int32(1))
		put(params)
		shared := uint8(0)
		if c.SharedClassifier {
			shared = 1
		}
		put(shared)
		b.Write(make([]byte, 256-b.Len()))
		for _, t := range [][]float32{m.RMSAtt, m.RMSFFN, m.RMSFinal, m.TokenEmbedding,
			m.WQ, m.WK, m.WV, m.WO, m.W1, m.W2, m.W3} {
			put(t)
		}
	} else {
		put(params)
		for _, t := range [][]float32{m.TokenEmbedding, m.RMSAtt, m.WQ, m.WK, m.WV, m.WO,
			m.RMSFFN, m.W1, m.W2, m.W3, m.RMSFinal} {
			put(t)
		}
		freq := make([]float32, 2*c.SeqLen*(c.Dim/c.Heads/2))
		for i := range freq {
			freq[i] = 42
		}
		put(freq)
	}
	if !c.SharedClassifier {
		put(m.WCls)
	}
	return b.Bytes()
}

// legacyBytes is the size of a legacy file, from the brief's formula.
func legacyBytes(c Llama2CConfig) int {
	D, H, L, V := c.Dim, c.HiddenDim, c.Layers, c.VocabSize
	kv, hs := D*c.KVHeads/c.Heads, D/c.Heads
	n := V*D + L*D + 2*L*D*D + 2*L*kv*D + L*D + 3*L*H*D + D + 2*c.SeqLen*hs/2
	if !c.SharedClassifier {
		n += V * D
	}
	return 28 + 4*n
}

// checkSame fails unless got holds bit-identical tensors to want.
func checkSame(t *testing.T, got, want *Llama2C) {
	t.Helper()
	if got.Config != want.Config {
		t.Fatalf("config %+v, want %+v", got.Config, want.Config)
	}
	pairs := []struct {
		name      string
		got, want []float32
	}{
		{"TokenEmbedding", got.TokenEmbedding, want.TokenEmbedding},
		{"RMSAtt", got.RMSAtt, want.RMSAtt}, {"WQ", got.WQ, want.WQ},
		{"WK", got.WK, want.WK}, {"WV", got.WV, want.WV}, {"WO", got.WO, want.WO},
		{"RMSFFN", got.RMSFFN, want.RMSFFN}, {"W1", got.W1, want.W1},
		{"W2", got.W2, want.W2}, {"W3", got.W3, want.W3},
		{"RMSFinal", got.RMSFinal, want.RMSFinal}, {"WCls", got.WCls, want.WCls},
	}
	for _, p := range pairs {
		if len(p.got) != len(p.want) {
			t.Fatalf("%s: %d values, want %d", p.name, len(p.got), len(p.want))
		}
		for i := range p.got {
			if math.Float32bits(p.got[i]) != math.Float32bits(p.want[i]) {
				t.Fatalf("%s[%d] = %v, want %v", p.name, i, p.got[i], p.want[i])
			}
		}
		if cap(p.got) != len(p.got) {
			t.Errorf("%s: cap %d > len %d: appending would clobber the next tensor", p.name, cap(p.got), len(p.got))
		}
	}
}

// mustParse parses data or fails the test.
func mustParse(t *testing.T, data []byte) *Llama2C {
	t.Helper()
	m, err := ParseLlama2C(data)
	if err != nil {
		t.Fatalf("ParseLlama2C: %v", err)
	}
	return m
}

// mustWrite encodes m with WriteLlama2C or fails the test.
func mustWrite(t testing.TB, m *Llama2C) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteLlama2C(&b, m); err != nil {
		t.Fatalf("WriteLlama2C: %v", err)
	}
	return b.Bytes()
}
