package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"
)

// loadMiniLM loads testdata/tokenizer/minilm/tokenizer.json (all-MiniLM-L6-v2,
// BERT uncased WordPiece).
func loadMiniLM(t testing.TB) *WordPiece {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(tokData, "minilm", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := LoadHFTokenizerJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	wp, ok := tok.(*WordPiece)
	if !ok {
		t.Fatalf("LoadHFTokenizerJSON gave %T, want *WordPiece", tok)
	}
	return wp
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestMiniLMFixtures: ids equal those of two independent implementations
// of tokenizer.json: Hugging Face's JavaScript tokenizers (with its decoded
// text) and the Go port shipped with all-minilm-l6-v2-go (with its byte
// offsets, compared on ASCII texts only: the port's offsets are wrong once a
// word has multi-byte characters: "の" and the three katakana after it all
// get [9,12]). Each reference skips the cases its documented differences from
// Hugging Face's Rust implementation touch; every case is compared by at
// least one of them.
func TestMiniLMFixtures(t *testing.T) {
	tok := loadMiniLM(t)
	compared := map[string]int{}
	for _, file := range []string{"minilm_expected_hfjs.json", "minilm_expected.json"} {
		for _, c := range readFixture(t, file) {
			if c.Skip != "" {
				t.Logf("%s: not compared: %q: %s", file, c.Text, c.Skip)
				continue
			}
			compared[c.Text]++
			toks := tok.EncodeOffsets(c.Text, true, true)
			if got := tokenIDs(toks); !slices.Equal(got, c.IDs) {
				t.Errorf("%s: %q:\n got %v\nwant %v", file, c.Text, got, c.IDs)
				continue
			}
			if c.Decoded != nil {
				if got := tok.Decode(c.IDs); got != *c.Decoded {
					t.Errorf("%s: decode of %q: got %q, want %q", file, c.Text, got, *c.Decoded)
				}
			}
			if c.Offsets != nil && isASCII(c.Text) {
				for i := 1; i+1 < len(toks); i++ { // the port gives [CLS] and [SEP] [0,0]
					if got := [2]int{toks[i].Start, toks[i].End}; got != c.Offsets[i] {
						t.Errorf("%s: %q token %d spans %v, want %v", file, c.Text, i, got, c.Offsets[i])
					}
				}
			}
		}
	}
	inputs := readInputs(t)
	for _, in := range inputs {
		if compared[in] == 0 {
			t.Errorf("%q is compared by no reference", in)
		}
	}
	if len(inputs) < 40 {
		t.Errorf("only %d inputs", len(inputs))
	}
}

// readInputs is testdata/tokenizer/minilm_inputs.json.
func readInputs(t *testing.T) []string {
	t.Helper()
	var texts []string
	for _, c := range readFixture(t, "minilm_expected_hfjs.json") {
		texts = append(texts, c.Text)
	}
	return texts
}

// TestWordPieceOffsets: spans are ordered, inside the text, and cover every
// character that normalisation keeps (all but whitespace and control
// characters); [CLS] and [SEP] have empty spans at the ends.
func TestWordPieceOffsets(t *testing.T) {
	tok := loadMiniLM(t)
	for _, text := range readInputs(t) {
		toks := tok.EncodeOffsets(text, true, true)
		if toks[0] != (Token{ID: 101}) || toks[len(toks)-1] != (Token{ID: 102, Start: len(text), End: len(text)}) {
			t.Errorf("%q: ends are %v and %v", text, toks[0], toks[len(toks)-1])
		}
		prev := 0
		covered := make([]bool, len(text))
		for _, tk := range toks[1 : len(toks)-1] {
			if tk.Start < prev || tk.End <= tk.Start || tk.End > len(text) {
				t.Errorf("%q: bad span %v after %d", text, tk, prev)
				continue
			}
			prev = tk.Start
			for i := tk.Start; i < tk.End; i++ {
				covered[i] = true
			}
		}
		for i, r := range text {
			kept := r != 0 && r != utf8.RuneError && !unicode.IsSpace(r) && !isBertControl(r)
			if kept && !covered[i] {
				t.Errorf("%q: %q at byte %d is in no token's span", text, r, i)
			}
		}
	}
	// Hand-checked spans across normalisation: accents, a Chinese character,
	// a control character dropped inside a word, punctuation.
	text := "Café,中x\x07y"
	got := tok.EncodeOffsets(text, false, false)
	want := []Token{
		{ID: 7668, Start: 0, End: 5},   // café → cafe
		{ID: 1010, Start: 5, End: 6},   // ,
		{ID: 1746, Start: 6, End: 9},   // 中
		{ID: 1060, Start: 9, End: 10},  // x
		{ID: 2100, Start: 11, End: 12}, // ##y (the BEL between is dropped)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%q:\n got %v\nwant %v", text, got, want)
	}
}

// TestWordPieceByHand: results worked out from the vocabulary by hand.
func TestWordPieceByHand(t *testing.T) {
	tok := loadMiniLM(t)
	texts := func(ids []int) []string {
		var s []string
		for _, id := range ids {
			s = append(s, tok.TokenText(id))
		}
		return s
	}
	for _, c := range []struct {
		in   string
		want []string
	}{
		// Greedy longest match first: "una" is in the vocabulary, so not the
		// BERT paper's un ##aff ##able.
		{"unaffable", []string{"una", "##ffa", "##ble"}},
		{"unaffableness", []string{"una", "##ffa", "##ble", "##ness"}},
		{"HeLLo", []string{"hello"}},
		{"Ñandú", []string{"nan", "##du"}},
		{"İ", []string{"i"}},             // NFD strips the dot, then lowercase
		{"x\u00a0y", []string{"x", "y"}}, // NBSP is whitespace
		{"[MASK]", []string{"[MASK]"}},
		{"[mask]", []string{"[", "mask", "]"}}, // added tokens match the raw text only
		{"a\u0000b", []string{"ab"}},
	} {
		if got := texts(tok.Encode(c.in, false, false)); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	if tok.BOS() != 101 || tok.EOS() != 102 || tok.VocabSize() != 30522 {
		t.Errorf("BOS %d EOS %d size %d", tok.BOS(), tok.EOS(), tok.VocabSize())
	}
	if tok.TokenText(-1) != "" || tok.TokenText(30522) != "" || tok.Piece(-1, 1<<30) != "" {
		t.Error("out-of-range ids are not empty")
	}
	// Piece: "##" joins, a word gets a space, cleanup glues punctuation.
	if got := tok.Piece(7592, 1010) + tok.Piece(1010, 2088) + tok.Piece(2088, 999); got != ", world!" {
		t.Errorf("pieces = %q", got)
	}
	if got := tok.Decode(tok.Encode("Playing unaffable games, OK?", true, true)); got != "playing unaffable games, ok?" {
		t.Errorf("Decode = %q", got)
	}
}
