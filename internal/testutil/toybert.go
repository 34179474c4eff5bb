// Package testutil holds test fixtures that several packages' tests build.
// Only tests import it.
package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ToyBERTDir writes a Hugging Face BERT directory to a temporary folder: the
// BERT fixture's config and weights (vocabulary 103, testdata/families/bert)
// with a small WordPiece vocabulary in the real MiniLM tokenizer.json's
// format. root is the repository root relative to the test's package.
func ToyBERTDir(t testing.TB, root string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata/families/bert", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "testdata/tokenizer/minilm/tokenizer.json"))
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
	out, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
