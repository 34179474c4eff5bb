package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// pieces splits s with gpt2Split and returns the pieces as strings.
func pieces(s string) []string {
	var out []string
	for _, sp := range gpt2Split(s, nil) {
		out = append(out, s[sp[0]:sp[1]])
	}
	return out
}

// TestGPT2SplitRegexFixture: the hand-written matcher splits every fixture
// string exactly as Python's regex module runs encoder.py's pattern
// (testdata/gen/tokenizer_gpt2_pretok.py: the GPT-2 fixture texts and 400
// random strings over characters chosen for every branch of the pattern).
func TestGPT2SplitRegexFixture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(tokData, "gpt2_pretok_expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Text   string   `json:"text"`
			Pieces []string `json:"pieces"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 400 {
		t.Fatalf("only %d cases", len(doc.Cases))
	}
	for _, c := range doc.Cases {
		if got := pieces(c.Text); !slices.Equal(got, c.Pieces) {
			t.Errorf("%q:\n got %q\nwant %q", c.Text, got, c.Pieces)
		}
	}
}

// TestGPT2SplitRules: each rule of the pattern on a hand-worked example.
func TestGPT2SplitRules(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"I'm", []string{"I", "'m"}},
		{"I'M", []string{"I", "'", "M"}},             // contractions are case-sensitive
		{"'''s", []string{"'''", "s"}},               // a run of "other" swallows the apostrophe
		{"x 's", []string{"x", " '", "s"}},           // " ?" binds the space to the run of others
		{"hello world", []string{"hello", " world"}}, // space joins the letters after it
		{"a  b", []string{"a", " ", " b"}},           // \s+(?!\S) leaves the last space
		{"a \t b", []string{"a", " \t", " b"}},
		{"a\tb", []string{"a", "\t", "b"}},               // one non-space whitespace: \s+
		{"a \tb", []string{"a", " ", "\t", "b"}},         // run of two: the first, then \t alone
		{"end   ", []string{"end", "   "}},               // whitespace at the end stays whole
		{"3.14", []string{"3", ".", "14"}},               // numbers and others
		{"x²", []string{"x", "²"}},                       // ² is \p{N}
		{" 42", []string{" 42"}},                         // space before a number
		{" !!", []string{" !!"}},                         // space before others
		{"\u00a0x", []string{"\u00a0", "x"}},             // NBSP is \s but not the optional space
		{"a\u0301b", []string{"a", "\u0301", "b"}},       // a combining mark is "other"
		{"\xff\xfeab", []string{"\xff\xfe", "ab"}},       // invalid bytes are "other"
		{"中文 text", []string{"中文", " text"}},             // CJK letters
		{"\n\n\nx", []string{"\n\n", "\n", "x"}},         // newlines before a word
		{"a \u3000b", []string{"a", " ", "\u3000", "b"}}, // ideographic space
		{"don't!", []string{"don", "'t", "!"}},
	} {
		if got := pieces(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
