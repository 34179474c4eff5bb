package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/headlight/headlight/assets"
	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"
)

// TestGGUFGolden: the embedded model converted to GGUF (F32) and loaded back
// — weights by llama.cpp's names, tokenizer from the GGUF metadata — decodes
// the same 200 golden tokens and text as llama2.c's run.c.
func TestGGUFGolden(t *testing.T) {
	w, err := weights.ParseLlama2C(assets.Stories260K)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.LoadLlama2C(assets.Tok512, w.Config.VocabSize)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stories260K.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ConvertLlama2C(w, tok, "stories260K", "F32", f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ld, err := Load(path, "", attention.NewEngine(kernels.NewPool(2)))
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	golden, err := os.ReadFile("../../assets/stories260K/greedy-200.txt")
	if err != nil {
		t.Fatal(err)
	}
	emb := loadDefault(t)
	want, err := Generate(context.Background(), emb.Model, Request{Prompt: []int{1}, MaxTokens: 200, Stop: []int{1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generate(context.Background(), ld.Model, Request{Prompt: []int{ld.Tokenizer.BOS()}, MaxTokens: 200, Stop: []int{1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("GGUF copy decodes differently")
	}
	text := ""
	prev := ld.Tokenizer.BOS()
	for _, id := range got {
		text += ld.Piece(prev, id)
		prev = id
	}
	if text != string(golden) {
		t.Fatalf("GGUF copy's text differs from the golden text:\n%q", text)
	}
	if ids := ld.Tokenizer.Encode("Once upon a time", true, false); !slices.Equal(ids, emb.Tokenizer.Encode("Once upon a time", true, false)) {
		t.Errorf("GGUF tokenizer encodes %v, llama2.c tokenizer %v", ids, emb.Tokenizer.Encode("Once upon a time", true, false))
	}
}

// TestLoadHFDir: a Hugging Face directory loads by its model_type with its
// tokenizer; a tokenizer bigger than the model's vocabulary is refused, and
// so is a directory without a tokenizer.
func TestLoadHFDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/families/gpt2", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng := attention.NewEngine(kernels.NewPool(1))
	if _, err := Load(dir, "", eng); err == nil {
		t.Fatal("a directory without a tokenizer loaded")
	}
	// GPT-2's real vocabulary (50,257 tokens) does not fit the 101-token test model.
	for _, f := range []string{"encoder.json", "vocab.bpe"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/tokenizer/gpt2", f))
		if err != nil {
			t.Fatal(err)
		}
		name := map[string]string{"encoder.json": "vocab.json", "vocab.bpe": "merges.txt"}[f]
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir, "", eng); err == nil || !strings.Contains(err.Error(), "do not belong together") {
		t.Fatalf("mismatched tokenizer: %v", err)
	}
}
