package weights

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// Legacy files written by hand parse to the tensors that were written, and
// WriteLlama2C reproduces the hand-written bytes outside the freq_cis table.
func TestLegacyRoundTrip(t *testing.T) {
	for i, base := range testConfigs {
		for _, shared := range []bool{true, false} {
			cfg := withShared(base, shared)
			t.Run(fmt.Sprintf("%d/shared=%v", i, shared), func(t *testing.T) {
				want := randomModel(cfg, uint64(i))
				hand := handWrite(want, 0)
				if len(hand) != legacyBytes(cfg) {
					t.Fatalf("hand-written file has %d bytes, formula says %d", len(hand), legacyBytes(cfg))
				}
				got := mustParse(t, hand)
				checkSame(t, got, want)
				if got.Version != 0 {
					t.Errorf("Version = %d, want 0", got.Version)
				}
				if shared && &got.WCls[0] != &got.TokenEmbedding[0] {
					t.Error("shared classifier does not alias TokenEmbedding")
				}

				written := mustWrite(t, want)
				if len(written) != len(hand) {
					t.Fatalf("WriteLlama2C wrote %d bytes, want %d", len(written), len(hand))
				}
				hs := cfg.Dim / cfg.Heads
				freqBytes := 4 * cfg.SeqLen * hs // real and imaginary tables
				freqEnd := len(hand)
				if !shared {
					freqEnd -= 4 * cfg.VocabSize * cfg.Dim
				}
				freqStart := freqEnd - freqBytes
				if !bytes.Equal(written[:freqStart], hand[:freqStart]) || !bytes.Equal(written[freqEnd:], hand[freqEnd:]) {
					t.Fatal("WriteLlama2C bytes differ from the hand-written file outside freq_cis")
				}
				checkSame(t, mustParse(t, written), want)
			})
		}
	}
}

// Version 1 ("ak42") files parse to the tensors that were written, and convert
// to an equivalent legacy file.
func TestVersion1(t *testing.T) {
	for i, base := range testConfigs {
		for _, shared := range []bool{true, false} {
			cfg := withShared(base, shared)
			t.Run(fmt.Sprintf("%d/shared=%v", i, shared), func(t *testing.T) {
				want := randomModel(cfg, uint64(100+i))
				data := handWrite(want, 1)
				got := mustParse(t, data)
				checkSame(t, got, want)
				if got.Version != 1 {
					t.Errorf("Version = %d, want 1", got.Version)
				}
				checkSame(t, mustParse(t, mustWrite(t, got)), want)
			})
		}
	}
}

// Aligned data is aliased, unaligned data is decoded into a copy; both give
// the same values.
func TestZeroCopy(t *testing.T) {
	want := randomModel(withShared(testConfigs[0], false), 3)
	raw := mustWrite(t, want)
	buf := make([]byte, len(raw)+4) // heap allocations of this size are 8-aligned
	aligned := buf[:len(raw)]
	copy(aligned, raw)
	m := mustParse(t, aligned)
	checkSame(t, m, want)
	inside := func(p *float32, b []byte) bool {
		a, lo := uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&b[0]))
		return a >= lo && a < lo+uintptr(len(b))
	}
	if littleEndianHost {
		for _, p := range []*float32{&m.TokenEmbedding[0], &m.WQ[0], &m.RMSFinal[0], &m.WCls[0]} {
			if !inside(p, aligned) {
				t.Fatal("aligned data was copied, want zero-copy")
			}
		}
	}

	unaligned := buf[1 : len(raw)+1]
	copy(unaligned, raw)
	m = mustParse(t, unaligned)
	checkSame(t, m, want)
	if inside(&m.WQ[0], buf) {
		t.Fatal("unaligned data was reinterpreted in place")
	}

	// The decoding path alone, as a big-endian host would use it.
	if got := asFloat32s([]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, false); len(got) != 2 || got[0] != 1 || got[1] != -2 {
		t.Fatalf("asFloat32s decode = %v, want [1 -2]", got)
	}
}

// The layer helpers return the l-th block of each tensor.
func TestLayerHelpers(t *testing.T) {
	cfg := withShared(testConfigs[2], false)
	m := randomModel(cfg, 5)
	D, H, kv := cfg.Dim, cfg.HiddenDim, cfg.KVDim()
	helpers := []struct {
		name string
		f    func(int) []float32
		all  []float32
		per  int
	}{
		{"RMSAtt", m.LayerRMSAtt, m.RMSAtt, D}, {"WQ", m.LayerWQ, m.WQ, D * D},
		{"WK", m.LayerWK, m.WK, kv * D}, {"WV", m.LayerWV, m.WV, kv * D},
		{"WO", m.LayerWO, m.WO, D * D}, {"RMSFFN", m.LayerRMSFFN, m.RMSFFN, D},
		{"W1", m.LayerW1, m.W1, H * D}, {"W2", m.LayerW2, m.W2, D * H},
		{"W3", m.LayerW3, m.W3, H * D},
	}
	for _, h := range helpers {
		for l := range cfg.Layers {
			got := h.f(l)
			if len(got) != h.per || cap(got) != h.per || &got[0] != &h.all[l*h.per] {
				t.Fatalf("Layer%s(%d): len %d cap %d, want block %d of %d", h.name, l, len(got), cap(got), l, h.per)
			}
		}
	}
	for _, l := range []int{-1, cfg.Layers} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "LayerWQ: layer") {
					t.Errorf("LayerWQ(%d): recovered %v, want a named out-of-range panic", l, r)
				}
			}()
			m.LayerWQ(l)
		}()
	}
}

// Configuration helpers follow the brief's formulas.
func TestConfigHelpers(t *testing.T) {
	c := Llama2CConfig{Dim: 64, Heads: 8, KVHeads: 4}
	if c.HeadDim() != 8 || c.KVDim() != 32 {
		t.Fatalf("HeadDim %d KVDim %d, want 8 and 32", c.HeadDim(), c.KVDim())
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		return 0, errors.New("disk full")
	}
	w.after -= len(p)
	return len(p), nil
}

// WriteLlama2C refuses inconsistent models and reports writer errors.
func TestWriteErrors(t *testing.T) {
	cfg := withShared(testConfigs[0], true)
	bad := []struct {
		name   string
		modify func(m *Llama2C)
	}{
		{"nil model", nil},
		{"short WQ", func(m *Llama2C) { m.WQ = m.WQ[:len(m.WQ)-1] }},
		{"missing W2", func(m *Llama2C) { m.W2 = nil }},
		{"bad config", func(m *Llama2C) { m.Config.Heads = 3 }},
		{"shared but different WCls", func(m *Llama2C) {
			m.WCls = append([]float32(nil), m.TokenEmbedding...)
			m.WCls[5]++
		}},
		{"unshared without WCls", func(m *Llama2C) { m.Config.SharedClassifier = false; m.WCls = nil }},
	}
	for _, b := range bad {
		var m *Llama2C
		if b.modify != nil {
			m = randomModel(cfg, 1)
			b.modify(m)
		}
		if err := WriteLlama2C(&bytes.Buffer{}, m); err == nil {
			t.Errorf("%s: WriteLlama2C succeeded, want an error", b.name)
		}
	}
	// Shared with nil WCls, or a copy of the embedding, is fine.
	m := randomModel(cfg, 1)
	m.WCls = nil
	mustWrite(t, m)
	m.WCls = append([]float32(nil), m.TokenEmbedding...)
	mustWrite(t, m)

	n := legacyBytes(cfg)
	for _, after := range []int{0, 27, n / 2, n - 1} {
		if err := WriteLlama2C(&failWriter{after: after}, m); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("writer failing after %d bytes: err %v, want disk full", after, err)
		}
	}
}
