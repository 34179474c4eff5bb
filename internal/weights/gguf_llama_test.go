package weights

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// llamaGGUF writes a metadata-only file: a complete tinyllama-like header
// with the keys in drop removed and the values in set added or replaced.
func llamaGGUF(t *testing.T, drop []string, set map[string]any) *GGUF {
	t.Helper()
	w := NewGGUFWriter()
	base := []GGUFKV{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.embedding_length", Value: uint32(64)},
		{Key: "llama.feed_forward_length", Value: uint64(172)},
		{Key: "llama.block_count", Value: int32(5)},
		{Key: "llama.attention.head_count", Value: uint32(8)},
		{Key: "llama.attention.head_count_kv", Value: uint32(4)},
		{Key: "llama.context_length", Value: uint32(256)},
		{Key: "llama.rope.freq_base", Value: float32(500000)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float64(1e-6)},
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Value: []string{"<unk>", "<s>", "</s>", "▁a"}},
		{Key: "tokenizer.ggml.scores", Value: []float32{0, 0, 0, -1.5}},
		{Key: "tokenizer.ggml.token_type", Value: []int32{2, 3, 3, 1}},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
	}
	for _, kv := range base {
		if !slices.Contains(drop, kv.Key) {
			if err := w.SetValue(kv.Key, kv.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k, v := range set {
		if err := w.SetValue(k, v); err != nil {
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
	return g
}

// LlamaParams reads every key, with defaults for the optional ones.
func TestGGUFLlamaParams(t *testing.T) {
	p, err := llamaGGUF(t, nil, nil).LlamaParams()
	want := GGUFLlamaParams{Dim: 64, HiddenDim: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8,
		ContextLength: 256, RopeDim: 8, RopeFreqBase: 500000, RMSNormEps: 1e-6, VocabSize: 4}
	if err != nil || p != want {
		t.Fatalf("LlamaParams = %+v, %v\nwant %+v", p, err, want)
	}
	p, err = llamaGGUF(t, []string{"llama.attention.head_count_kv", "llama.rope.freq_base"},
		map[string]any{"llama.vocab_size": uint32(32000)}).LlamaParams()
	want.KVHeads, want.RopeFreqBase, want.VocabSize = 8, 10000, 32000
	if err != nil || p != want {
		t.Fatalf("defaults: LlamaParams = %+v, %v\nwant %+v", p, err, want)
	}
	bad := []struct {
		name string
		drop []string
		set  map[string]any
		frag string
	}{
		{"arch", nil, map[string]any{"general.architecture": "gpt2"}, `"gpt2"`},
		{"missing dim", []string{"llama.embedding_length"}, nil, "missing llama.embedding_length"},
		{"missing eps", []string{"llama.attention.layer_norm_rms_epsilon"}, nil, "layer_norm_rms_epsilon"},
		{"missing ctx", []string{"llama.context_length"}, nil, "llama.context_length"},
		{"string dim", nil, map[string]any{"llama.embedding_length": "64"}, "not an integer"},
		{"zero layers", nil, map[string]any{"llama.block_count": uint32(0)}, "llama.block_count = 0"},
		{"huge ffn", nil, map[string]any{"llama.feed_forward_length": uint64(1 << 40)}, "feed_forward_length"},
		{"negative eps", nil, map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(-1)}, "positive"},
		{"heads", nil, map[string]any{"llama.attention.head_count": uint32(7)}, "does not divide"},
		{"kv heads", nil, map[string]any{"llama.attention.head_count_kv": uint32(3)}, "head_count_kv 3"},
		{"no vocab", []string{"tokenizer.ggml.tokens"}, nil, "missing llama.vocab_size"},
		{"value length", nil, map[string]any{"llama.attention.value_length": uint32(16)}, "value_length"},
	}
	for _, c := range bad {
		_, err := llamaGGUF(t, c.drop, c.set).LlamaParams()
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.frag)
		}
	}
}

// Tokenizer reads the vocabulary and rejects missing or inconsistent keys.
func TestGGUFTokenizer(t *testing.T) {
	tok, err := llamaGGUF(t, nil, nil).Tokenizer()
	want := &GGUFTokenizer{Model: "llama", Tokens: []string{"<unk>", "<s>", "</s>", "▁a"},
		Scores: []float32{0, 0, 0, -1.5}, Types: []int32{2, 3, 3, 1}, BOS: 1, EOS: 2}
	if err != nil || !reflect.DeepEqual(tok, want) {
		t.Fatalf("Tokenizer = %+v, %v", tok, err)
	}
	tok, err = llamaGGUF(t, []string{"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}, nil).Tokenizer()
	if err != nil || tok.Scores != nil || tok.Types != nil {
		t.Errorf("without scores/types: %+v, %v", tok, err)
	}
	bad := []struct {
		name string
		drop []string
		set  map[string]any
		frag string
	}{
		{"model", []string{"tokenizer.ggml.model"}, nil, "tokenizer.ggml.model"},
		{"tokens", []string{"tokenizer.ggml.tokens"}, nil, "tokenizer.ggml.tokens"},
		{"empty tokens", nil, map[string]any{"tokenizer.ggml.tokens": []string{}}, "tokenizer.ggml.tokens"},
		{"scores length", nil, map[string]any{"tokenizer.ggml.scores": []float32{1}}, "tokenizer.ggml.scores"},
		{"types length", nil, map[string]any{"tokenizer.ggml.token_type": []int32{1}}, "token_type"},
		{"types kind", nil, map[string]any{"tokenizer.ggml.token_type": []string{"a", "b", "c", "d"}}, "token_type"},
		{"bos", []string{"tokenizer.ggml.bos_token_id"}, nil, "bos_token_id"},
		{"eos range", nil, map[string]any{"tokenizer.ggml.eos_token_id": int32(4)}, "eos_token_id = 4"},
		{"bos negative", nil, map[string]any{"tokenizer.ggml.bos_token_id": int32(-1)}, "bos_token_id = -1"},
	}
	for _, c := range bad {
		_, err := llamaGGUF(t, c.drop, c.set).Tokenizer()
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("%s: %v, want an error mentioning %q", c.name, err, c.frag)
		}
	}
}
