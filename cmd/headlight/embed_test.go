package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// toyBERTDir copies the BERT fixture (vocabulary 103) and gives it a small
// WordPiece vocabulary in the real MiniLM tokenizer.json's format.
func toyBERTDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/families/bert", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile("../../testdata/tokenizer/minilm/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	var tj map[string]any
	if err := json.Unmarshal(raw, &tj); err != nil {
		t.Fatal(err)
	}
	vocab := map[string]int{"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
	for _, w := range strings.Fields("the a cat dog sat on mat ran park big small . , ##s ##ing play") {
		vocab[w] = len(vocab)
	}
	tj["model"].(map[string]any)["vocab"] = vocab
	for _, a := range tj["added_tokens"].([]any) {
		m := a.(map[string]any)
		m["id"] = vocab[m["content"].(string)]
	}
	pp := tj["post_processor"].(map[string]any)["special_tokens"].(map[string]any)
	pp["[CLS]"].(map[string]any)["ids"] = []int{2}
	pp["[SEP]"].(map[string]any)["ids"] = []int{3}
	out, _ := json.Marshal(tj)
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEmbed(t *testing.T) {
	dir := toyBERTDir(t)
	var out, errb bytes.Buffer
	if code := run([]string{"embed", "--model", dir, "the cat sat on the mat", "a dog ran", "the cat sat on the mat"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var vecs [][]float32
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Index != len(vecs) {
			t.Fatalf("index %d out of order", r.Index)
		}
		vecs = append(vecs, r.Embedding)
	}
	if len(vecs) != 3 || len(vecs[0]) != 48 {
		t.Fatalf("%d embeddings of %d", len(vecs), len(vecs[0]))
	}
	var n float64
	for i, v := range vecs[0] {
		n += float64(v) * float64(v)
		if v != vecs[2][i] {
			t.Fatalf("the same text embedded differently")
		}
	}
	if math.Abs(n-1) > 1e-5 {
		t.Errorf("normalised embedding has squared norm %v", n)
	}
	for _, bad := range [][]string{{"embed", "x"}, {"embed", "--model", "../../testdata/families/gpt2", "x"}} {
		if run(bad, &out, &errb) == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
}
