package weights

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// WriteLlama2C writes m as a legacy-format llama2.c checkpoint, the format
// llama2.c's run.c reads: the 7 × int32 header (vocab_size negated when the
// classifier is separate), the tensors in legacy order, and the
// freq_cis_real/imag RoPE tables, which the Llama2C struct does not keep and
// which are recomputed here (cos/sin of pos / 10000^(2i/head_size), in
// float64 rounded to float32, as llama2.c's precompute_freqs_cis does in
// float32).
//
// Every tensor must have exactly the length m.Config implies. With
// Config.SharedClassifier, WCls must be nil or hold the same values as
// TokenEmbedding (it is not written); otherwise it is written after the
// RoPE tables.
func WriteLlama2C(w io.Writer, m *Llama2C) error {
	if m == nil {
		return errors.New("weights: WriteLlama2C: nil model")
	}
	cfg := m.Config
	if err := cfg.Validate(); err != nil {
		return err
	}
	s, err := cfg.sizes()
	if err != nil {
		return err
	}
	layout := llama2cLayout(m, s, 0)
	for _, t := range layout {
		if t.dst != nil && int64(len(*t.dst)) != t.n {
			return fmt.Errorf("%w: WriteLlama2C: %s has %d values, config %+v implies %d",
				ErrMalformed, t.name, len(*t.dst), cfg, t.n)
		}
	}
	if cfg.SharedClassifier && m.WCls != nil && !sameBits(m.WCls, m.TokenEmbedding) {
		return fmt.Errorf("%w: WriteLlama2C: SharedClassifier is set but WCls differs from TokenEmbedding", ErrMalformed)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	vocab := int32(cfg.VocabSize)
	if !cfg.SharedClassifier {
		vocab = -vocab
	}
	hdr := []int32{
		int32(cfg.Dim), int32(cfg.HiddenDim), int32(cfg.Layers), int32(cfg.Heads),
		int32(cfg.KVHeads), vocab, int32(cfg.SeqLen),
	}
	if err := binary.Write(bw, binary.LittleEndian, hdr); err != nil {
		return fmt.Errorf("weights: WriteLlama2C: %w", err)
	}
	buf := make([]byte, 0, 16<<10)
	for _, t := range layout {
		var vals []float32
		switch {
		case t.dst != nil:
			vals = *t.dst
		case t.name == "freq_cis_real":
			vals = ropeTable(cfg, math.Cos)
		default: // freq_cis_imag
			vals = ropeTable(cfg, math.Sin)
		}
		for len(vals) > 0 {
			k := min(len(vals), cap(buf)/4)
			buf = buf[:0]
			for _, v := range vals[:k] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			if _, err := bw.Write(buf); err != nil {
				return fmt.Errorf("weights: WriteLlama2C: %w", err)
			}
			vals = vals[k:]
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("weights: WriteLlama2C: %w", err)
	}
	return nil
}

// ropeTable is llama2.c's freq_cis table, (seq_len, head_size/2):
// f(pos · 10000^(-2i/head_size)) with f = cos (real part) or sin (imaginary).
func ropeTable(cfg Llama2CConfig, f func(float64) float64) []float32 {
	hs := cfg.HeadDim()
	half := hs / 2
	out := make([]float32, cfg.SeqLen*half)
	for pos := range cfg.SeqLen {
		for i := range half {
			theta := float64(pos) * math.Pow(10000, -float64(2*i)/float64(hs))
			out[pos*half+i] = float32(f(theta))
		}
	}
	return out
}

// sameBits reports that a and b hold bit-identical values (NaNs included).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
