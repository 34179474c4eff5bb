// Command tokenizer_minilm regenerates testdata/tokenizer/minilm_expected.json:
// the all-MiniLM-L6-v2 (BERT uncased WordPiece) token ids and byte offsets of
// the strings in testdata/tokenizer/minilm_inputs.json, computed by the
// tokenizer that the Go module github.com/clems4ever/all-minilm-l6-v2-go@v0.0.9
// ships (its NewTokenizer: github.com/sugarme/tokenizer, a Go port of Hugging
// Face tokenizers, replaced by the fork github.com/clems4ever/tokenizer,
// reading the module's embedded tokenizer.json, which is the file committed as
// testdata/tokenizer/minilm/tokenizer.json; checked below).
//
// The reference is independent of internal/tokenizer. It is not part of the
// project build: CI uses the committed JSON. To regenerate, from the
// repository root (needs cgo: the module's package also links onnxruntime_go,
// which is never called here):
//
//	cd testdata/gen/tokenizer_minilm && go run . ../../..
//
// Known differences between this port and Hugging Face tokenizers (Rust), read
// from the port's source. Cases they touch are still written, with "skip" set
// to the reason, and the Go test does not compare them:
//   - "strip_accents": null is read as false; Hugging Face strips accents when
//     it lowercases (strip_accents.unwrap_or(lowercase)), as all uncased BERTs
//     do.
//   - whitespace is only ' ', \t, \n, \r; Hugging Face uses Unicode
//     White_Space (char::is_whitespace). (Whitespace in Cc, such as U+0085,
//     is dropped as a control character by both.)
//   - a control character is Cc or Cf; Hugging Face also drops Co and Cn.
//   - the Chinese-character block list has U+2B820..U+2B91F, which Hugging
//     Face's list (0x2B920..=0x2CEAF) leaves out.
//   - added tokens: AddedVocabulary.findMatches sorts the matches by start,
//     then again by token index, and then drops every match that starts
//     before the end of one it kept; so of two different added tokens in the
//     text, the earlier one is lost when it comes later in added_tokens
//     ("a[MASK]b[UNK]c" keeps [UNK] and splits "[MASK]"). Hugging Face
//     matches leftmost-longest in the raw text.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/clems4ever/all-minilm-l6-v2-go/all_minilm_l6_v2"
	"golang.org/x/text/unicode/norm"
)

type testCase struct {
	Text    string   `json:"text"`
	IDs     []int    `json:"ids"`
	Offsets [][2]int `json:"offsets"`
	Skip    string   `json:"skip,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . REPO_ROOT")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(root string) error {
	dir := filepath.Join(root, "testdata", "tokenizer")
	tokJSON := filepath.Join(dir, "minilm", "tokenizer.json")
	if err := checkSameTokenizerJSON(tokJSON); err != nil {
		return err
	}
	added, err := addedTokens(tokJSON)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "minilm_inputs.json"))
	if err != nil {
		return err
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return err
	}
	tk, err := all_minilm_l6_v2.NewTokenizer()
	if err != nil {
		return err
	}
	var lines []string
	for _, text := range texts {
		enc, err := tk.Encode(text, true)
		if err != nil {
			return fmt.Errorf("%q: %w", text, err)
		}
		c := testCase{Text: text, Skip: knownDifference(text)}
		if c.Skip == "" && !addedInListOrder(text, added) {
			c.Skip = "added tokens out of added_tokens order: the port drops the earlier"
		}
		for i, id := range enc.Ids {
			if enc.AttentionMask[i] == 0 { // the file asks for padding to 128
				break
			}
			c.IDs = append(c.IDs, id)
			c.Offsets = append(c.Offsets, [2]int{enc.Offsets[i][0], enc.Offsets[i][1]})
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		lines = append(lines, " "+string(b))
	}
	out := fmt.Sprintf("{\"source\": %q,\n\"cases\": [\n%s\n]}\n",
		"github.com/clems4ever/all-minilm-l6-v2-go@v0.0.9 NewTokenizer().Encode(text, true), testdata/gen/tokenizer_minilm",
		strings.Join(lines, ",\n"))
	dst := filepath.Join(dir, "minilm_expected.json")
	fmt.Printf("wrote %d cases to %s\n", len(lines), dst)
	return os.WriteFile(dst, []byte(out), 0o644)
}

// checkSameTokenizerJSON compares the committed tokenizer.json with the one
// embedded in the reference module.
func checkSameTokenizerJSON(committed string) error {
	ours, err := os.ReadFile(committed)
	if err != nil {
		return err
	}
	modDir, err := moduleDir()
	if err != nil {
		return err
	}
	theirs, err := os.ReadFile(filepath.Join(modDir, "all_minilm_l6_v2", "tokenizer.json"))
	if err != nil {
		return err
	}
	if !bytes.Equal(ours, theirs) {
		return fmt.Errorf("%s differs from the module's tokenizer.json", committed)
	}
	return nil
}

// moduleDir is where the Go command keeps the reference module.
func moduleDir() (string, error) {
	gomodcache := os.Getenv("GOMODCACHE")
	if gomodcache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			gopath = filepath.Join(home, "go")
		}
		gomodcache = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
	}
	return filepath.Join(gomodcache, "github.com", "clems4ever", "all-minilm-l6-v2-go@v0.0.9"), nil
}

// knownDifference names the first known difference between the reference
// port and Hugging Face tokenizers (see the package comment) that text
// touches, or "".
func knownDifference(text string) string {
	for _, r := range text {
		if norm.NFD.String(string(r)) != string(r) {
			return fmt.Sprintf("U+%04X: the port does not decompose (NFD) and strip accents (strip_accents null)", r)
		}
		if unicode.IsSpace(r) && !unicode.Is(unicode.Cc, r) && !strings.ContainsRune(" \t\n\r", r) {
			return fmt.Sprintf("U+%04X: the port's whitespace is ASCII only", r)
		}
		if unicode.Is(unicode.Co, r) || !isAssigned(r) {
			return fmt.Sprintf("U+%04X: the port keeps Co and Cn characters", r)
		}
		if r >= 0x2B820 && r <= 0x2B91F {
			return fmt.Sprintf("U+%04X: the port treats it as a Chinese character", r)
		}
	}
	return ""
}

// isAssigned reports whether r has a general category (is not Cn).
func isAssigned(r rune) bool {
	for _, t := range unicode.Categories {
		if unicode.Is(t, r) {
			return true
		}
	}
	return false
}

// addedTokens is the contents of the added_tokens of a tokenizer.json, in
// their order.
func addedTokens(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		AddedTokens []struct {
			Content string `json:"content"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var out []string
	for _, t := range doc.AddedTokens {
		out = append(out, t.Content)
	}
	return out, nil
}

// addedInListOrder reports whether the added tokens that occur in text occur
// in the order of the list (the only case the port's matcher gets right).
func addedInListOrder(text string, added []string) bool {
	last := -1
	for i := 0; i < len(text); i++ {
		for k, a := range added {
			if strings.HasPrefix(text[i:], a) {
				if k < last {
					return false
				}
				last = k
			}
		}
	}
	return true
}
