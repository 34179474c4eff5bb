package engine

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/tokenizer"
)

// TestBPEFromGGUF: GPT-2's vocabulary as GGUF stores it (token list by id,
// merge list) encodes exactly as encoder.json + vocab.bpe do.
func TestBPEFromGGUF(t *testing.T) {
	enc, err := os.ReadFile("../../testdata/tokenizer/gpt2/encoder.json")
	if err != nil {
		t.Fatal(err)
	}
	bpe, err := os.ReadFile("../../testdata/tokenizer/gpt2/vocab.bpe")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := tokenizer.LoadGPT2(enc, bpe)
	if err != nil {
		t.Fatal(err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(enc, &vocab); err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, len(vocab))
	for s, id := range vocab {
		tokens[id] = s
	}
	var merges []string
	for _, line := range strings.Split(string(bpe), "\n") {
		if line != "" && !strings.HasPrefix(line, "#version") {
			merges = append(merges, line)
		}
	}
	got, err := bpeFromGGUF(tokens, merges)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Hello world", "  I'm here, you'll see!\n\tnumbers 12345", "héllo wörld ✓ 🙂 中文"} {
		if a, b := got.Encode(s, false, false), ref.Encode(s, false, false); !slices.Equal(a, b) {
			t.Errorf("%q: GGUF vocabulary gives %v, encoder.json %v", s, a, b)
		}
	}
	if _, err := bpeFromGGUF(tokens, nil); err == nil {
		t.Error("a BPE without merges was accepted")
	}
}

func TestTokenizerFingerprint(t *testing.T) {
	a := loadDefault(t).Tokenizer
	b := loadDefault(t).Tokenizer
	if TokenizerFingerprint(a) != TokenizerFingerprint(b) || len(TokenizerFingerprint(a)) != 12 {
		t.Fatalf("fingerprints %q %q", TokenizerFingerprint(a), TokenizerFingerprint(b))
	}
	enc, _ := os.ReadFile("../../testdata/tokenizer/gpt2/encoder.json")
	bpe, _ := os.ReadFile("../../testdata/tokenizer/gpt2/vocab.bpe")
	g, err := tokenizer.LoadGPT2(enc, bpe)
	if err != nil {
		t.Fatal(err)
	}
	if TokenizerFingerprint(g) == TokenizerFingerprint(a) {
		t.Fatal("different vocabularies share a fingerprint")
	}
}
