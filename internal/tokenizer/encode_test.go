package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// roundTripTexts are texts that must survive Encode then Decode.
var roundTripTexts = []string{
	"",
	" ",
	"  ",
	"a",
	"Once upon a time",
	"Once upon a time, there was a little girl named Lily.",
	" leading space",
	"trailing space ",
	"Hello, World! 1234567890 +-*/=%$#@!?;:'\"()[]{}<>|\\~`^_&",
	"line one\nline two\n\nline four\r\n\ttabbed",
	"héllo wörld ✓ 🙂",
	"日本語のテキスト",
	"a literal <0x41> and <0xZZ> and <0x0a>",
	"<0x41>",
	"\x00nul\x00 bytes",
	"\xff\xfe invalid \x80\x80\x80\x80\x80 utf-8 \xe2\x82",
	"\x01\x02\x1f\x7f control",
	strings.Repeat("ab", 300),
}

func TestRoundTrip(t *testing.T) {
	tok := loadTok512(t)
	texts := append(slices.Clone(roundTripTexts), string(readFile(t, greedyPath)))
	for _, text := range texts {
		ids := tok.Encode(text, true, false)
		if got := tok.Decode(ids); got != text {
			t.Errorf("Decode(Encode(%q)) = %q (ids %v)", text, got, ids)
		}
		if got := tok.Decode(tok.Encode(text, true, true)); got != text {
			t.Errorf("with EOS: %q, want %q", got, text)
		}
	}
}

// synthVocab is a hand-made vocabulary in which merging by highest score
// differs from merging the first mergeable pair.
var synthVocab = []struct {
	piece string
	score float32
}{
	{"<unk>", 0}, {"<s>", 0}, {"</s>", 0}, {" ", 0}, // 0-3
	{"a", 0}, {"b", 0}, {"c", 0}, {"d", 0}, {"x", 0}, {"y", 0}, {"z", 0}, // 4-10
	{"ab", -2}, {"bc", -1}, {"cd", -3}, {"aa", -1}, // 11-14
	{"xy", -5}, {"yz", -5}, {" d", -4}, {"abc", -0.5}, {"bcd", -0.7}, // 15-19
}

// TestMergeOrder checks ids derived by hand from the rules: highest score
// first, leftmost on ties, newly formed pairs competing with old ones.
func TestMergeOrder(t *testing.T) {
	var pieces []string
	var scores []float32
	for _, v := range synthVocab {
		pieces = append(pieces, v.piece)
		scores = append(scores, v.score)
	}
	tok, err := NewSentencePiece(pieces, scores, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		want []Token
	}{
		// [␣ a b c d]: bc(-1) beats ab(-2) and cd(-3); then abc(-0.5)
		// beats bcd(-0.7). First-pair-first would give [␣ ab cd].
		{"abcd", []Token{{1, 0, 0}, {3, 0, 0}, {18, 0, 3}, {7, 3, 4}}},
		// Tie between the two "aa": the left one merges.
		{"aaa", []Token{{1, 0, 0}, {3, 0, 0}, {14, 0, 2}, {4, 2, 3}}},
		{"xyz", []Token{{1, 0, 0}, {3, 0, 0}, {15, 0, 2}, {10, 2, 3}}},
		// The dummy prefix merges: " d" spans the "d".
		{"d", []Token{{1, 0, 0}, {17, 0, 1}}},
		{"dd", []Token{{1, 0, 0}, {17, 0, 1}, {7, 1, 2}}},
		// [␣ a b ␣ d] → ab → " d".
		{"ab d", []Token{{1, 0, 0}, {3, 0, 0}, {11, 0, 2}, {17, 2, 4}}},
		// No byte pieces in this vocabulary: unknown bytes become <unk>.
		{"qé", []Token{{1, 0, 0}, {3, 0, 0}, {0, 0, 1}, {0, 1, 2}, {0, 2, 3}}},
		{"", []Token{{1, 0, 0}}},
	}
	for _, c := range cases {
		if got := tok.EncodeOffsets(c.text, true, false); !slices.Equal(got, c.want) {
			t.Errorf("EncodeOffsets(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got, want := tok.Encode("abcd", false, true), []int{3, 18, 7, 2}; !slices.Equal(got, want) {
		t.Errorf("Encode(abcd, eos) = %v, want %v", got, want)
	}
	if got := tok.Decode(tok.Encode("ab d", true, false)); got != "ab d" {
		t.Errorf("Decode = %q", got)
	}
}

// TestEncodeGreedy200 encodes the text run.c printed and expects the ids the
// model generated. Nothing forces a model's output to be the canonical
// tokenization of its text, but this one (trained on canonically encoded
// stories) is: the only independent reference for encoder ids we have.
func TestEncodeGreedy200(t *testing.T) {
	tok := loadTok512(t)
	want := referenceTokens(t)
	got := tok.Encode(string(readFile(t, greedyPath)), true, false)
	if !slices.Equal(got, want) {
		t.Fatalf("Encode(greedy-200.txt):\n got %v\nwant %v", got, want)
	}
}

// TestOnceUponATime checks structural properties: ids in range, decoding
// gives the text, shorter than the characters, and nothing merges further.
func TestOnceUponATime(t *testing.T) {
	tok := loadTok512(t)
	const text = "Once upon a time"
	ids := tok.Encode(text, true, false)
	if ids[0] != tok.BOS() {
		t.Fatalf("ids %v do not start with BOS", ids)
	}
	for _, id := range ids[1:] {
		if id < 3 || id >= tok.VocabSize() {
			t.Fatalf("id %d out of range in %v", id, ids)
		}
	}
	if got := tok.Decode(ids); got != text {
		t.Fatalf("Decode = %q", got)
	}
	if len(ids) > 1+len(strings.Fields(text))*2 {
		t.Errorf("%d ids for %q: hardly merged", len(ids), text)
	}
	// The dummy prefix merges into the first word.
	if p := tok.TokenText(ids[1]); !strings.HasPrefix(p, " O") {
		t.Errorf("first token %q does not carry the dummy prefix", p)
	}
	assertMaximal(t, tok, ids[1:])
	t.Logf("%q → %v", text, ids)
}

// assertMaximal fails if some adjacent pair of ids could still merge.
func assertMaximal(t *testing.T, tok *SentencePiece, ids []int) {
	t.Helper()
	for i := 0; i+1 < len(ids); i++ {
		cat := tok.TokenText(ids[i]) + tok.TokenText(ids[i+1])
		if id := tok.lookup(cat); id >= 0 && tok.Score(id) > -1e10 {
			t.Errorf("pair %d,%d (%q) still merges into %d", ids[i], ids[i+1], cat, id)
		}
	}
}

// checkOffsets verifies that spans tile text and that each token's span is
// the text it decodes to (the first one without its dummy-prefix space).
func checkOffsets(t *testing.T, tok *SentencePiece, text string, bos bool) {
	t.Helper()
	toks := tok.EncodeOffsets(text, bos, true)
	body := toks[:len(toks)-1]
	if bos {
		if toks[0] != (Token{ID: tok.BOS()}) {
			t.Fatalf("%q: first token %v, want BOS with empty span", text, toks[0])
		}
		body = body[1:]
	}
	if eos := toks[len(toks)-1]; eos != (Token{ID: tok.EOS(), Start: len(text), End: len(text)}) {
		t.Fatalf("%q: last token %v, want EOS at %d", text, eos, len(text))
	}
	pos := 0
	prev := -1
	if bos {
		prev = tok.BOS()
	}
	for i, tk := range body {
		if tk.Start != pos || tk.End < tk.Start || tk.End > len(text) {
			t.Fatalf("%q: token %d %v does not start at %d", text, i, tk, pos)
		}
		want := tok.Piece(prev, tk.ID)
		if i == 0 && !bos {
			want = strings.TrimPrefix(want, " ")
		}
		if got := text[tk.Start:tk.End]; got != want {
			t.Fatalf("%q: token %d %v spans %q, decodes to %q", text, i, tk, got, want)
		}
		pos, prev = tk.End, tk.ID
	}
	if pos != len(text) {
		t.Fatalf("%q: spans end at %d of %d", text, pos, len(text))
	}
}

func TestOffsets(t *testing.T) {
	tok := loadTok512(t)
	texts := append(slices.Clone(roundTripTexts), string(readFile(t, greedyPath)))
	r := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		texts = append(texts, randomText(r, tok.pieces[3:], r.IntN(100)))
	}
	for _, text := range texts {
		checkOffsets(t, tok, text, true)
		checkOffsets(t, tok, text, false)
	}
	if toks := tok.EncodeOffsets("Once", true, false); len(toks) != 2 || toks[1].Start != 0 || toks[1].End != 4 {
		t.Errorf("\"Once\": %v, want BOS and one token spanning [0, 4)", toks)
	}
}

// TestEncodeLarge encodes 100 KB (the priority queue keeps it fast; see
// BenchmarkEncode100KB) and checks it round-trips and cannot merge further.
func TestEncodeLarge(t *testing.T) {
	tok := loadTok512(t)
	r := rand.New(rand.NewPCG(9, 10))
	text := randomText(r, tok.pieces[3:], 100_000)
	ids := tok.Encode(text, true, false)
	if tok.Decode(ids) != text {
		t.Fatal("100 KB text does not round-trip")
	}
	assertMaximal(t, tok, ids[1:])
}

func FuzzEncode(f *testing.F) {
	tok := loadTok512(f)
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got := tok.Decode(tok.Encode(text, true, false)); got != text {
			t.Fatalf("round trip: %q → %q", text, got)
		}
		checkOffsets(t, tok, text, true)
		if len(text) <= 200 && strings.IndexByte(text, 0) < 0 {
			checkSame(t, tok, text, true, false)
		}
	})
}

func BenchmarkEncodeGreedy200(b *testing.B) {
	tok := loadTok512(b)
	text := string(readFile(b, greedyPath))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text, true, false)
	}
}

func BenchmarkEncode100KB(b *testing.B) {
	tok := loadTok512(b)
	text := randomText(rand.New(rand.NewPCG(9, 10)), tok.pieces[3:], 100_000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text, true, false)
	}
}

func BenchmarkRunCEncodeGreedy200(b *testing.B) {
	tok := loadTok512(b)
	text := string(readFile(b, greedyPath))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		runcEncode(tok.pieces, tok.scores, text, true, false)
	}
}
