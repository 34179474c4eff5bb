package weights

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"testing"
)

// The real checkpoint committed with the embedded assets, and its README facts.
const (
	storiesPath   = "../../assets/stories260K/stories260K.bin"
	storiesSHA256 = "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"
	storiesBytes  = 1056540
)

// stories260K.bin loads with the README's header, both mapped and from an
// unaligned in-memory copy, and its freq_cis tables sit where the layout
// says they do.
func TestStories260K(t *testing.T) {
	raw, err := os.ReadFile(storiesPath)
	if os.IsNotExist(err) {
		t.Skipf("%s not present", storiesPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != storiesSHA256 {
		t.Fatalf("sha256 %s, want %s", got, storiesSHA256)
	}
	want := Llama2CConfig{Dim: 64, HiddenDim: 172, Layers: 5, Heads: 8, KVHeads: 4,
		VocabSize: 512, SeqLen: 512, SharedClassifier: true}
	if len(raw) != storiesBytes || legacyBytes(want) != storiesBytes {
		t.Fatalf("file %d bytes, formula %d, README %d", len(raw), legacyBytes(want), storiesBytes)
	}

	m, closer, err := OpenLlama2C(storiesPath)
	if err != nil {
		t.Fatalf("OpenLlama2C: %v", err)
	}
	defer closer.Close()
	if m.Config != want || m.Version != 0 {
		t.Fatalf("config %+v version %d, want %+v version 0", m.Config, m.Version, want)
	}
	if m.Config.HeadDim() != 8 || m.Config.KVDim() != 32 {
		t.Fatalf("HeadDim %d KVDim %d, want 8 and 32", m.Config.HeadDim(), m.Config.KVDim())
	}
	if &m.WCls[0] != &m.TokenEmbedding[0] {
		t.Error("shared classifier does not alias the embedding")
	}

	// The copying path must agree with the mapped one.
	buf := make([]byte, len(raw)+1)
	copy(buf[1:], raw)
	checkSame(t, mustParse(t, buf[1:]), m)

	// Independent layout check: the float32 values just before the end are
	// llama2.c's RoPE tables, cos and sin of pos / 10000^(2i/8), which only
	// line up if every tensor before them has the size the parser assumed.
	half := 4
	tables := raw[len(raw)-2*4*want.SeqLen*half:]
	for k, f := range []func(float64) float64{math.Cos, math.Sin} {
		for pos := range want.SeqLen {
			for i := range half {
				off := 4 * (k*want.SeqLen*half + pos*half + i)
				got := math.Float32frombits(binary.LittleEndian.Uint32(tables[off:]))
				ref := f(float64(pos) * math.Pow(10000, -float64(2*i)/8))
				if math.Abs(float64(got)-ref) > 1e-4 {
					t.Fatalf("freq_cis table %d at pos %d, i %d: %v, want %v", k, pos, i, got, ref)
				}
			}
		}
	}
	// And the RMSNorm weights, unlike the matrices, are all positive.
	for _, w := range [][]float32{m.RMSAtt, m.RMSFFN, m.RMSFinal} {
		for i, v := range w {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				t.Fatalf("RMSNorm weight %d = %v, want positive and finite", i, v)
			}
		}
	}
	// Rewriting the model reproduces the file up to the recomputed RoPE tables.
	out := mustWrite(t, m)
	cut := len(raw) - len(tables)
	if len(out) != len(raw) || string(out[:cut]) != string(raw[:cut]) {
		t.Fatal("WriteLlama2C does not reproduce stories260K.bin before the RoPE tables")
	}
	checkSame(t, mustParse(t, out), m)
}
