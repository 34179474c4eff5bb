package weights

import (
	"fmt"
	"math"
)

// Llama in GGUF (llama.cpp's LLM_ARCH_LLAMA). Tensor names, with their GGUF
// ne (innermost first) and the PyTorch shape Source reports:
//
//	token_embd.weight          (vocab, dim)
//	blk.N.attn_norm.weight     (dim)
//	blk.N.attn_q.weight        (heads·headDim, dim)
//	blk.N.attn_k.weight        (kvHeads·headDim, dim)
//	blk.N.attn_v.weight        (kvHeads·headDim, dim)
//	blk.N.attn_output.weight   (dim, heads·headDim)
//	blk.N.ffn_norm.weight      (dim)
//	blk.N.ffn_gate.weight      (hidden, dim)   llama2.c w1
//	blk.N.ffn_down.weight      (dim, hidden)   llama2.c w2
//	blk.N.ffn_up.weight        (hidden, dim)   llama2.c w3
//	output_norm.weight         (dim)
//	output.weight              (vocab, dim); absent when tied to token_embd
//
// RoPE layout. llama.cpp's LLAMA graph rotates interleaved pairs
// (x[2i], x[2i+1]), Meta's original layout. Hugging Face checkpoints store
// attn_q/attn_k permuted for the half-split rotate_half layout (pairs
// (x[i], x[i+headDim/2])), so convert_hf_to_gguf.py permutes those rows back
// into the interleaved order when it writes GGUF. llama.cpp's
// convert-llama2c-to-ggml does NOT permute: llama2.c weights are already
// interleaved. Either way a well-formed llama GGUF is meant for interleaved
// RoPE; a file written by another tool may differ, so the caller decides the
// layout per file (nothing here rewrites q/k).

// MaxGGUFLlamaField caps the integer hyper-parameters read by LlamaParams:
// far above real models, it keeps a hostile file from describing absurd
// shapes.
const MaxGGUFLlamaField = 1 << 24

// GGUFLlamaParams are a Llama model's hyper-parameters from GGUF metadata.
type GGUFLlamaParams struct {
	Dim           int     // llama.embedding_length
	HiddenDim     int     // llama.feed_forward_length
	Layers        int     // llama.block_count
	Heads         int     // llama.attention.head_count
	KVHeads       int     // llama.attention.head_count_kv (default Heads)
	HeadDim       int     // llama.attention.key_length (default Dim / Heads)
	ContextLength int     // llama.context_length
	RopeDim       int     // llama.rope.dimension_count (default HeadDim)
	RopeFreqBase  float64 // llama.rope.freq_base (default 10000)
	RMSNormEps    float64 // llama.attention.layer_norm_rms_epsilon
	VocabSize     int     // llama.vocab_size, else len(tokenizer.ggml.tokens)
}

// LlamaParams reads the hyper-parameters of a general.architecture "llama"
// file. Integer keys may have any integer type and float keys any numeric
// type. Missing required keys, out-of-range values and inconsistent head
// counts are errors wrapping ErrMalformed that name the key.
func (g *GGUF) LlamaParams() (GGUFLlamaParams, error) {
	var p GGUFLlamaParams
	if a := g.Architecture(); a != "llama" {
		return p, fmt.Errorf("%w: gguf: general.architecture is %q, want \"llama\"", ErrMalformed, a)
	}
	var err error
	geti := func(dst *int, key string, def int) {
		if err != nil {
			return
		}
		v, ok := g.GetInt(key)
		switch {
		case !ok && g.has(key):
			err = fmt.Errorf("%w: gguf: %s is not an integer", ErrMalformed, key)
		case !ok && def < 0:
			err = fmt.Errorf("%w: gguf: missing %s", ErrMalformed, key)
		case !ok:
			*dst = def
		case v <= 0 || v > MaxGGUFLlamaField:
			err = fmt.Errorf("%w: gguf: %s = %d, want 1..%d", ErrMalformed, key, v, MaxGGUFLlamaField)
		default:
			*dst = int(v)
		}
	}
	getf := func(dst *float64, key string, def float64) {
		if err != nil {
			return
		}
		v, ok := g.GetFloat(key)
		switch {
		case !ok && g.has(key):
			err = fmt.Errorf("%w: gguf: %s is not a number", ErrMalformed, key)
		case !ok && def < 0:
			err = fmt.Errorf("%w: gguf: missing %s", ErrMalformed, key)
		case !ok:
			*dst = def
		case !(v > 0) || math.IsInf(v, 0):
			err = fmt.Errorf("%w: gguf: %s = %v, want a positive number", ErrMalformed, key, v)
		default:
			*dst = v
		}
	}
	geti(&p.Dim, "llama.embedding_length", -1)
	geti(&p.HiddenDim, "llama.feed_forward_length", -1)
	geti(&p.Layers, "llama.block_count", -1)
	geti(&p.Heads, "llama.attention.head_count", -1)
	geti(&p.KVHeads, "llama.attention.head_count_kv", p.Heads)
	geti(&p.ContextLength, "llama.context_length", -1)
	getf(&p.RMSNormEps, "llama.attention.layer_norm_rms_epsilon", -1)
	getf(&p.RopeFreqBase, "llama.rope.freq_base", 10000)
	if err != nil {
		return GGUFLlamaParams{}, err
	}
	if !g.has("llama.attention.key_length") && p.Dim%p.Heads != 0 {
		return GGUFLlamaParams{}, fmt.Errorf("%w: gguf: llama.attention.head_count %d does not divide llama.embedding_length %d",
			ErrMalformed, p.Heads, p.Dim)
	}
	geti(&p.HeadDim, "llama.attention.key_length", p.Dim/p.Heads)
	geti(&p.RopeDim, "llama.rope.dimension_count", p.HeadDim)
	if err != nil {
		return GGUFLlamaParams{}, err
	}
	if tokens, ok := g.GetStrings("tokenizer.ggml.tokens"); ok && len(tokens) > 0 {
		geti(&p.VocabSize, "llama.vocab_size", len(tokens))
	} else if !g.has("llama.vocab_size") {
		err = fmt.Errorf("%w: gguf: missing llama.vocab_size and tokenizer.ggml.tokens", ErrMalformed)
	} else {
		geti(&p.VocabSize, "llama.vocab_size", -1)
	}
	if err != nil {
		return GGUFLlamaParams{}, err
	}
	v, hasV := g.GetInt("llama.attention.value_length")
	switch {
	case p.KVHeads > p.Heads || p.Heads%p.KVHeads != 0:
		err = fmt.Errorf("attention.head_count_kv %d does not divide attention.head_count %d", p.KVHeads, p.Heads)
	case hasV && v != int64(p.HeadDim):
		err = fmt.Errorf("attention.value_length %d differs from the head size %d", v, p.HeadDim)
	case p.RopeDim > p.HeadDim || p.RopeDim%2 != 0:
		err = fmt.Errorf("rope.dimension_count %d is odd or exceeds the head size %d", p.RopeDim, p.HeadDim)
	}
	if err != nil {
		return GGUFLlamaParams{}, fmt.Errorf("%w: gguf: llama.%v", ErrMalformed, err)
	}
	return p, nil
}

// has reports that key is present, whatever its type.
func (g *GGUF) has(key string) bool {
	_, ok := g.kvIndex[key]
	return ok
}

// GGUFTokenizer is the vocabulary of a GGUF file (tokenizer.ggml.*).
type GGUFTokenizer struct {
	Model  string    // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (BPE), …
	Tokens []string  // tokenizer.ggml.tokens
	Scores []float32 // tokenizer.ggml.scores; nil when absent (BPE files)
	Types  []int32   // tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control, 6 byte); nil when absent
	BOS    int       // tokenizer.ggml.bos_token_id
	EOS    int       // tokenizer.ggml.eos_token_id
}

// Tokenizer reads the vocabulary. Model, tokens and the BOS/EOS ids are
// required; scores and token types are optional but, when present, must have
// one entry per token. Errors wrap ErrMalformed and name the key.
func (g *GGUF) Tokenizer() (*GGUFTokenizer, error) {
	bad := func(format string, args ...any) (*GGUFTokenizer, error) {
		return nil, fmt.Errorf("%w: gguf: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	t := &GGUFTokenizer{}
	var ok bool
	if t.Model, ok = g.GetString("tokenizer.ggml.model"); !ok {
		return bad("missing tokenizer.ggml.model (string)")
	}
	if t.Tokens, ok = g.GetStrings("tokenizer.ggml.tokens"); !ok || len(t.Tokens) == 0 {
		return bad("missing tokenizer.ggml.tokens (non-empty array of strings)")
	}
	n := len(t.Tokens)
	if g.has("tokenizer.ggml.scores") {
		if t.Scores, ok = g.GetFloats("tokenizer.ggml.scores"); !ok || len(t.Scores) != n {
			return bad("tokenizer.ggml.scores must be %d numbers, one per token", n)
		}
	}
	if g.has("tokenizer.ggml.token_type") {
		types, ok := g.GetInts("tokenizer.ggml.token_type")
		if !ok || len(types) != n {
			return bad("tokenizer.ggml.token_type must be %d integers, one per token", n)
		}
		t.Types = make([]int32, n)
		for i, v := range types {
			if v < math.MinInt32 || v > math.MaxInt32 {
				return bad("tokenizer.ggml.token_type[%d] = %d is out of range", i, v)
			}
			t.Types[i] = int32(v)
		}
	}
	for _, id := range []struct {
		dst *int
		key string
	}{{&t.BOS, "tokenizer.ggml.bos_token_id"}, {&t.EOS, "tokenizer.ggml.eos_token_id"}} {
		v, ok := g.GetInt(id.key)
		if !ok {
			return bad("missing %s (integer)", id.key)
		}
		if v < 0 || v >= int64(n) {
			return bad("%s = %d is not a token id (vocabulary of %d)", id.key, v, n)
		}
		*id.dst = int(v)
	}
	return t, nil
}
