package engine

import (
	"fmt"
	"io"
	"strings"

	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"
)

// GGUF token types (llama.cpp's llama_token_type).
const (
	tokNormal  = 1
	tokUnknown = 2
	tokControl = 3
	tokByte    = 6
)

// ConvertLlama2C writes a llama2.c checkpoint and its tokenizer as one GGUF
// file (llama.cpp's tensor names and metadata), with tensors stored as dtype
// ("F32", "F16", "BF16" or "Q8_0"; norms always stay F32). llama2.c keeps
// q/k in the adjacent-pair RoPE layout llama.cpp uses, so nothing is
// permuted.
func ConvertLlama2C(w *weights.Llama2C, tok *tokenizer.SentencePiece, name, dtype string, out io.Writer) error {
	c := w.Config
	if tok.VocabSize() != c.VocabSize {
		return fmt.Errorf("convert: tokenizer has %d pieces, model %d", tok.VocabSize(), c.VocabSize)
	}
	g := weights.NewGGUFWriter()
	g.SetString("general.architecture", "llama")
	g.SetString("general.name", name)
	g.SetUint32("llama.context_length", uint32(c.SeqLen))
	g.SetUint32("llama.embedding_length", uint32(c.Dim))
	g.SetUint32("llama.feed_forward_length", uint32(c.HiddenDim))
	g.SetUint32("llama.block_count", uint32(c.Layers))
	g.SetUint32("llama.attention.head_count", uint32(c.Heads))
	g.SetUint32("llama.attention.head_count_kv", uint32(c.KVHeads))
	g.SetUint32("llama.rope.dimension_count", uint32(c.HeadDim()))
	g.SetFloat32("llama.rope.freq_base", 10000)
	g.SetFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5)
	g.SetUint32("llama.vocab_size", uint32(c.VocabSize))

	pieces := make([]string, c.VocabSize)
	scores := make([]float32, c.VocabSize)
	types := make([]int32, c.VocabSize)
	for id := range pieces {
		p := tok.TokenText(id)
		pieces[id], scores[id], types[id] = p, tok.Score(id), tokNormal
		switch {
		case id == 0:
			types[id] = tokUnknown
		case id == tok.BOS() || id == tok.EOS():
			types[id] = tokControl
		case len(p) == 6 && strings.HasPrefix(p, "<0x") && strings.HasSuffix(p, ">"):
			types[id] = tokByte
		}
	}
	g.SetString("tokenizer.ggml.model", "llama")
	g.SetStrings("tokenizer.ggml.tokens", pieces)
	g.SetFloat32s("tokenizer.ggml.scores", scores)
	g.SetInt32s("tokenizer.ggml.token_type", types)
	g.SetUint32("tokenizer.ggml.bos_token_id", uint32(tok.BOS()))
	g.SetUint32("tokenizer.ggml.eos_token_id", uint32(tok.EOS()))
	g.SetUint32("tokenizer.ggml.unknown_token_id", 0)

	d, kvd, hd := c.Dim, c.KVDim(), c.HiddenDim
	type t struct {
		name  string
		shape []int
		data  []float32
		norm  bool
	}
	ts := []t{{"token_embd.weight", []int{c.VocabSize, d}, w.TokenEmbedding, false}}
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			t{p + "attn_norm.weight", []int{d}, w.LayerRMSAtt(l), true},
			t{p + "attn_q.weight", []int{d, d}, w.LayerWQ(l), false},
			t{p + "attn_k.weight", []int{kvd, d}, w.LayerWK(l), false},
			t{p + "attn_v.weight", []int{kvd, d}, w.LayerWV(l), false},
			t{p + "attn_output.weight", []int{d, d}, w.LayerWO(l), false},
			t{p + "ffn_norm.weight", []int{d}, w.LayerRMSFFN(l), true},
			t{p + "ffn_gate.weight", []int{hd, d}, w.LayerW1(l), false},
			t{p + "ffn_down.weight", []int{d, hd}, w.LayerW2(l), false},
			t{p + "ffn_up.weight", []int{hd, d}, w.LayerW3(l), false})
	}
	ts = append(ts, t{"output_norm.weight", []int{d}, w.RMSFinal, true})
	if !c.SharedClassifier {
		ts = append(ts, t{"output.weight", []int{c.VocabSize, d}, w.WCls, false})
	}
	for _, x := range ts {
		dt := dtype
		if x.norm {
			dt = "F32"
		}
		if err := g.AddTensor(x.name, x.shape, dt, x.data); err != nil {
			return fmt.Errorf("convert: %s: %w", x.name, err)
		}
	}
	_, err := g.WriteTo(out)
	return err
}
