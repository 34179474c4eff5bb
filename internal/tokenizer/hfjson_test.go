package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// gpt2HFJSON writes GPT-2's encoder.json and vocab.bpe as the tokenizer.json
// Hugging Face publishes for gpt2 (ByteLevel pre-tokenizer, post-processor
// and decoder; <|endoftext|> an added special token), with the merges as
// "a b" strings or, if pairs, as [a, b] lists, and add_prefix_space as given.
func gpt2HFJSON(t testing.TB, pairs, prefix bool) []byte {
	t.Helper()
	enc, err := os.ReadFile(filepath.Join(tokData, "gpt2", "encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	bpe, err := os.ReadFile(filepath.Join(tokData, "gpt2", "vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	var merges []any
	for _, line := range strings.Split(strings.TrimSpace(string(bpe)), "\n")[1:] {
		if pairs {
			a, b, _ := strings.Cut(line, " ")
			merges = append(merges, []string{a, b})
		} else {
			merges = append(merges, line)
		}
	}
	m, err := json.Marshal(merges)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Appendf(nil, `{"version":"1.0","truncation":null,"padding":null,
	"added_tokens":[{"id":50256,"content":"<|endoftext|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":true}],
	"normalizer":null,
	"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":%v,"trim_offsets":true,"use_regex":true},
	"post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},
	"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
	"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"",
	"fuse_unk":false,"byte_fallback":false,"vocab":%s,"merges":%s}}`, prefix, enc, m)
}

// TestHFJSONGPT2: GPT-2 through tokenizer.json gives the fixture's ids (with
// either merges format), and matches <|endoftext|> in the text as a token.
func TestHFJSONGPT2(t *testing.T) {
	for _, pairs := range []bool{false, true} {
		tok, err := LoadHFTokenizerJSON(gpt2HFJSON(t, pairs, false))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range readFixture(t, "gpt2_expected.json") {
			if c.Text == "<|endoftext|>" {
				continue // an added token here, plain text to OpenAI's encoder
			}
			if got := tok.Encode(c.Text, false, false); c.Skip == "" && !slices.Equal(got, c.IDs) {
				t.Errorf("pairs %v: %q:\n got %v\nwant %v", pairs, c.Text, got, c.IDs)
			}
		}
		text := "Hi<|endoftext|>there"
		got := tok.EncodeOffsets(text, false, false)
		want := []Token{{17250, 0, 2}, {50256, 2, 15}, {8117, 15, 20}}
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
		if tok.BOS() != 50256 || tok.EOS() != 50256 {
			t.Errorf("BOS %d EOS %d", tok.BOS(), tok.EOS())
		}
	}
}

// TestHFJSONPrefixSpace: add_prefix_space encodes "Hello" as " Hello" would
// be, and the invented space has no source bytes.
func TestHFJSONPrefixSpace(t *testing.T) {
	tok, err := LoadHFTokenizerJSON(gpt2HFJSON(t, false, true))
	if err != nil {
		t.Fatal(err)
	}
	plain := loadTestGPT2(t)
	if got, want := tok.Encode("Hello world", false, false), plain.Encode(" Hello world", false, false); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := tok.EncodeOffsets("Hello", false, false); !slices.Equal(got, []Token{{18435, 0, 5}}) {
		t.Errorf("spans %v", got)
	}
	if got := tok.EncodeOffsets("?", false, false); !slices.Equal(got, []Token{{5633, 0, 1}}) {
		t.Errorf("spans %v", got)
	}
	if got := tok.EncodeOffsets(" x", false, false); !slices.Equal(got, []Token{{2124, 0, 2}}) {
		t.Errorf("a text that starts with a space gets no second one: %v", got)
	}
}

// TestAddedTokenOptions: lstrip/rstrip swallow whitespace, single_word only
// matches whole words, the longest match wins.
func TestAddedTokenOptions(t *testing.T) {
	a, err := newAddedSplitter([]addedToken{
		{id: 1, content: "<mask>", lstrip: true},
		{id: 2, content: "<sep>", rstrip: true},
		{id: 3, content: "cat", single: true},
		{id: 4, content: "<mask>x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	a.split("a  <mask> b<sep>  c cat concat <mask>x", func(s, e, id int) {
		got = append(got, fmt.Sprintf("%d:%q", id, "a  <mask> b<sep>  c cat concat <mask>x"[s:e]))
	})
	want := []string{`-1:"a"`, `1:"<mask>"`, `-1:" b"`, `2:"<sep>"`, `-1:"c "`, `3:"cat"`, `-1:" concat "`, `4:"<mask>x"`}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// hostileHF is a set of tokenizer.json files that must be refused.
var hostileHF = map[string]string{
	"empty":               ``,
	"not json":            `model: BPE`,
	"array":               `[]`,
	"no model":            `{"added_tokens":[]}`,
	"null model":          `{"model":null}`,
	"model not object":    `{"model":"BPE"}`,
	"unknown type":        `{"model":{"type":"Unigram","vocab":[["a",0.0]]}}`,
	"no vocab":            `{"model":{"type":"WordPiece"}}`,
	"vocab wrong type":    `{"model":{"type":"WordPiece","vocab":["a"]}}`,
	"id wrong type":       `{"model":{"type":"WordPiece","vocab":{"a":"0"}}}`,
	"negative id":         `{"model":{"type":"WordPiece","vocab":{"[UNK]":-1}}}`,
	"huge id":             `{"model":{"type":"WordPiece","vocab":{"[UNK]":99999999999}}}`,
	"sparse ids":          `{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":9000000}}}`,
	"added no id":         `{"added_tokens":[{"content":"x"}],"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`,
	"added no content":    `{"added_tokens":[{"id":0}],"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`,
	"added empty":         `{"added_tokens":[{"id":0,"content":""}],"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"added bad id":        `{"added_tokens":[{"id":-5,"content":"x"}],"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`,
	"added wrong type":    `{"added_tokens":{"id":0},"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`,
	"wp no unk":           `{"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","vocab":{"a":0,"[CLS]":1,"[SEP]":2}}}`,
	"wp no cls":           `{"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`,
	"wp no pretokenizer":  `{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"wp max chars 0":      `{"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","max_input_chars_per_word":0,"vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"wp other normalizer": `{"normalizer":{"type":"NFKC"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"wp lowercase string": `{"normalizer":{"type":"BertNormalizer","lowercase":"yes"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"template bad id":     `{"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[X]"}},{"Sequence":{"id":"A"}}],"special_tokens":{}},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"template id range":   `{"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[X]"}},{"Sequence":{"id":"A"}}],"special_tokens":{"[X]":{"ids":[77]}}},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"template no seq":     `{"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[],"special_tokens":{}},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"bert proc bad":       `{"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"BertProcessing","sep":["[SEP]"],"cls":["[CLS]",1]},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2}}}`,
	"bpe no bytes":        `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
	"bpe no pretokenizer": `{"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
	"bpe normalizer":      `{"normalizer":{"type":"NFC"},"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
	"bpe byte fallback":   `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","byte_fallback":true,"vocab":{"a":0},"merges":[]}}`,
	"bpe dropout":         `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]}}`,
	"bpe merges wrong":    `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":"a b"}}`,
	"bpe merge 3 parts":   `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]}}`,
	"bpe merge pair 3":    `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":[["a","b","c"]]}}`,
	"bpe merge number":    `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":[7]}}`,
	"bpe add prefix str":  `{"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":"no"},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
}

// TestLoadHFTokenizerJSONHostile: malformed and unsupported files are
// errors wrapping ErrVocab, never panics.
func TestLoadHFTokenizerJSONHostile(t *testing.T) {
	for name, doc := range hostileHF {
		tok, err := LoadHFTokenizerJSON([]byte(doc))
		if err == nil || tok != nil {
			t.Errorf("%s: loaded %T", name, tok)
			continue
		}
		if !errors.Is(err, ErrVocab) {
			t.Errorf("%s: %v does not wrap ErrVocab", name, err)
		}
	}
	// A GPT-2 file with one of its merges broken.
	good := string(gpt2HFJSON(t, false, false))
	bad := strings.Replace(good, `"Ġ t"`, `"Ġ qqqqqqqqq"`, 1)
	if _, err := LoadHFTokenizerJSON([]byte(bad)); err == nil {
		t.Error("merge with a part outside the vocabulary: loaded")
	}
}

// tinyWordPieceJSON is a small valid WordPiece tokenizer.json.
const tinyWordPieceJSON = `{"added_tokens":[{"id":0,"content":"[UNK]","special":true},{"id":1,"content":"[CLS]","special":true},
{"id":2,"content":"[SEP]","special":true},{"id":3,"content":"[MASK]","special":true,"lstrip":true}],
"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
"pre_tokenizer":{"type":"BertPreTokenizer"},
"post_processor":{"type":"BertProcessing","sep":["[SEP]",2],"cls":["[CLS]",1]},
"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":8,
"vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"[MASK]":3,"a":4,"##b":5,"ab":6,"c":7,"##c":8,",":9,"中":10}}}`

func TestTinyWordPiece(t *testing.T) {
	tok, err := LoadHFTokenizerJSON([]byte(tinyWordPieceJSON))
	if err != nil {
		t.Fatal(err)
	}
	text := "ÁBbC, x [MASK]中abcabcabc"
	got := tok.EncodeOffsets(text, true, true)
	want := []Token{{1, 0, 0}, {6, 0, 3}, {5, 3, 4}, {8, 4, 5}, {9, 5, 6}, {0, 7, 8}, {3, 9, 15},
		{10, 15, 18}, {0, 18, 27}, {2, 27, 27}}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if d := tok.Decode(tokenIDs(got)); d != "abbc, 中" {
		t.Errorf("Decode = %q", d)
	}
}

// FuzzLoadHFTokenizerJSON: loading never panics, and a tokenizer that loads
// encodes and decodes without panicking, with spans inside the text.
func FuzzLoadHFTokenizerJSON(f *testing.F) {
	f.Add([]byte(tinyWordPieceJSON), "ÁBbC, x [MASK]中")
	for _, doc := range hostileHF {
		f.Add([]byte(doc), "a b")
	}
	f.Fuzz(func(t *testing.T, doc []byte, text string) {
		tok, err := LoadHFTokenizerJSON(doc)
		if err != nil {
			return
		}
		for _, tk := range tok.EncodeOffsets(text, true, true) {
			if tk.Start < 0 || tk.End < tk.Start || tk.End > len(text) || tk.ID < 0 || tk.ID >= tok.VocabSize() {
				t.Fatalf("bad token %v for %d bytes, %d ids", tk, len(text), tok.VocabSize())
			}
		}
		tok.Decode(tok.Encode(text, false, false))
	})
}
