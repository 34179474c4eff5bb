package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// tokData is the directory of the tokenizer fixtures (see its README).
var tokData = filepath.Join("..", "..", "testdata", "tokenizer")

// fixtureCase is one entry of a *_expected*.json fixture.
type fixtureCase struct {
	Text    string   `json:"text"`
	IDs     []int    `json:"ids"`
	Offsets [][2]int `json:"offsets"`
	Decoded *string  `json:"decoded"`
	Skip    string   `json:"skip"`
}

// readFixture loads a fixture file: {"source": …, "cases": [...]}.
func readFixture(t testing.TB, name string) []fixtureCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(tokData, name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Source string        `json:"source"`
		Cases  []fixtureCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(doc.Cases) == 0 || doc.Source == "" {
		t.Fatalf("%s: no cases or no source", name)
	}
	return doc.Cases
}

var (
	gpt2Once sync.Once
	gpt2Tok  *BPE
	gpt2Err  error
)

// loadTestGPT2 loads the GPT-2 vocabulary of testdata/tokenizer/gpt2 once.
func loadTestGPT2(t testing.TB) *BPE {
	t.Helper()
	gpt2Once.Do(func() {
		enc, err := os.ReadFile(filepath.Join(tokData, "gpt2", "encoder.json"))
		if err != nil {
			gpt2Err = err
			return
		}
		bpe, err := os.ReadFile(filepath.Join(tokData, "gpt2", "vocab.bpe"))
		if err != nil {
			gpt2Err = err
			return
		}
		gpt2Tok, gpt2Err = LoadGPT2(enc, bpe)
	})
	if gpt2Err != nil {
		t.Fatal(gpt2Err)
	}
	return gpt2Tok
}

// TestGPT2Fixture: ids equal those of the npm package gpt-3-encoder (a
// port of OpenAI's encoder.py) for every fixture string, and decoding gives
// the text back.
func TestGPT2Fixture(t *testing.T) {
	tok := loadTestGPT2(t)
	compared := 0
	for _, c := range readFixture(t, "gpt2_expected.json") {
		got := tok.Encode(c.Text, false, false)
		if c.Skip != "" {
			t.Logf("not compared: %q: %s", c.Text, c.Skip)
		} else {
			compared++
			if !slices.Equal(got, c.IDs) {
				t.Errorf("%q:\n got %v\nwant %v", c.Text, got, c.IDs)
			}
		}
		if back := tok.Decode(got); back != c.Text {
			t.Errorf("%q decodes to %q", c.Text, back)
		}
		checkTiling(t, tok, c.Text, tok.EncodeOffsets(c.Text, false, false))
	}
	if compared < 50 {
		t.Errorf("only %d cases compared", compared)
	}
}

// checkTiling: the spans of a byte-level encoding tile the text exactly, and
// each token's bytes are the text under its span.
func checkTiling(t *testing.T, tok *BPE, text string, toks []Token) {
	t.Helper()
	pos := 0
	for i, tk := range toks {
		if tk.Start != pos || tk.End <= tk.Start || tk.End > len(text) {
			t.Fatalf("%q: token %d (%d) spans [%d, %d), want it to start at %d", text, i, tk.ID, tk.Start, tk.End, pos)
		}
		if piece := tok.Piece(-1, tk.ID); piece != text[tk.Start:tk.End] {
			t.Fatalf("%q: token %d is %q but spans %q", text, i, piece, text[tk.Start:tk.End])
		}
		pos = tk.End
	}
	if pos != len(text) {
		t.Fatalf("%q: tokens cover %d of %d bytes", text, pos, len(text))
	}
}

func TestGPT2Specials(t *testing.T) {
	tok := loadTestGPT2(t)
	if tok.BOS() != 50256 || tok.EOS() != 50256 || tok.VocabSize() != 50257 {
		t.Fatalf("BOS %d EOS %d size %d", tok.BOS(), tok.EOS(), tok.VocabSize())
	}
	if got := tok.TokenText(995); got != "Ġworld" {
		t.Errorf("TokenText(995) = %q", got)
	}
	if tok.TokenText(-1) != "" || tok.TokenText(1<<20) != "" || tok.Piece(0, 1<<20) != "" {
		t.Error("out-of-range ids are not empty")
	}
	toks := tok.EncodeOffsets("Hello world", true, true)
	want := []Token{{50256, 0, 0}, {15496, 0, 5}, {995, 5, 11}, {50256, 11, 11}}
	if !slices.Equal(toks, want) {
		t.Errorf("EncodeOffsets = %v, want %v", toks, want)
	}
	if got := tok.Decode([]int{50256, 15496, 995, 50256}); got != "Hello world" {
		t.Errorf("Decode with BOS/EOS = %q", got)
	}
	// OpenAI's encoder has no special tokens: the text is ordinary text.
	if ids := tok.Encode("<|endoftext|>", false, false); slices.Contains(ids, 50256) {
		t.Errorf("<|endoftext|> in text became the special token: %v", ids)
	}
	// A token that holds part of a character decodes to those bytes.
	ids := tok.Encode("🙂", false, false)
	if len(ids) < 2 {
		t.Fatalf("🙂 is %v, expected several byte-level tokens", ids)
	}
	if p := tok.Piece(-1, ids[0]); utf8.ValidString(p) {
		t.Errorf("first piece of 🙂 is %q, expected a partial character", p)
	}
}

func TestLoadGPT2Hostile(t *testing.T) {
	enc, err := os.ReadFile(filepath.Join(tokData, "gpt2", "encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][2]string{
		"bad json":             {`{"a":`, ""},
		"not an object":        {`[1,2]`, ""},
		"string id":            {`{"a":"1","<|endoftext|>":0}`, ""},
		"no endoftext":         {`{"a":0}`, ""},
		"missing byte tokens":  {`{"a":0,"<|endoftext|>":1}`, ""},
		"negative id":          {`{"a":-1,"<|endoftext|>":1}`, ""},
		"huge id":              {`{"a":1000000000,"<|endoftext|>":1}`, ""},
		"merge of three parts": {string(enc), "#version: 0.2\na b c\n"},
		"merge of one part":    {string(enc), "#version: 0.2\nab\n"},
		"merge not in vocab":   {string(enc), "#version: 0.2\nĠ qqqqqq\n"},
	} {
		if tok, err := LoadGPT2([]byte(c[0]), []byte(c[1])); err == nil {
			t.Errorf("%s: loaded (%d tokens)", name, tok.VocabSize())
		}
	}
}

// FuzzBPERoundTrip: for any string (valid UTF-8 or not), GPT-2 decoding
// gives it back, and the token spans tile it.
func FuzzBPERoundTrip(f *testing.F) {
	for _, s := range []string{"", "Hello world", "  a\n\n b\t\t", "I'm 3.14 🙂 中文", "\xff\xfe'S\x80", "'''ll"} {
		f.Add(s)
	}
	tok := loadTestGPT2(f)
	f.Fuzz(func(t *testing.T, s string) {
		toks := tok.EncodeOffsets(s, false, false)
		ids := tokenIDs(toks)
		if back := tok.Decode(ids); back != s {
			t.Fatalf("%q decodes to %q (ids %v)", s, back, ids)
		}
		checkTiling(t, tok, s, toks)
	})
}

// encoderPyBPE is OpenAI's encoder.py bpe() transcribed literally: strings,
// a rank table, and "merge every occurrence of the best pair, left to right"
// until no pair has a rank. It is the reference for the priority-queue
// merging of encodeWord.
func encoderPyBPE(word []string, ranks map[[2]string]int) []string {
	for len(word) > 1 {
		best, bestRank := [2]string{}, -1
		for i := 0; i+1 < len(word); i++ {
			if r, ok := ranks[[2]string{word[i], word[i+1]}]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = [2]string{word[i], word[i+1]}, r
			}
		}
		if bestRank < 0 {
			break
		}
		var next []string
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == best[0] && word[i+1] == best[1] {
				next = append(next, best[0]+best[1])
				i += 2
			} else {
				next = append(next, word[i])
				i++
			}
		}
		word = next
	}
	return word
}

// TestBPEMergeOrder: encodeWord gives encoder.py's tokens on random pieces
// (GPT-2 pre-tokens of random text over a pool that makes long merge chains).
func TestBPEMergeOrder(t *testing.T) {
	tok := loadTestGPT2(t)
	raw, err := os.ReadFile(filepath.Join(tokData, "gpt2", "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	merges, err := parseMergesTxt(raw)
	if err != nil {
		t.Fatal(err)
	}
	ranks := make(map[[2]string]int, len(merges))
	for i, m := range merges {
		if _, dup := ranks[m]; !dup {
			ranks[m] = i
		}
	}
	pool := []string{"a", "e", "i", "n", "t", "s", "r", "th", "ing", " ", "  ", "\n", "1", "0", ".", "é", "中", "🙂", "'", "aaaa"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(12) {
			b.WriteString(pool[r.IntN(len(pool))])
		}
		text := b.String()
		for _, sp := range gpt2Split(text, nil) {
			piece := text[sp[0]:sp[1]]
			var word []string
			for i := range len(piece) {
				word = append(word, string(byteChars[piece[i]]))
			}
			var want []int
			for _, s := range encoderPyBPE(word, ranks) {
				want = append(want, tok.vocab[s])
			}
			if got := tokenIDs(tok.encodeWord(nil, piece, 0, 0)); !slices.Equal(got, want) {
				t.Fatalf("%q: got %v, want %v", piece, got, want)
			}
		}
	}
}
