package tokenizer

import (
	"bytes"
	"encoding/json"
	"testing"
)

// referenceTokens returns the ids of reference.json: BOS and the 200 ids
// llama2.c generated greedily.
func referenceTokens(tb testing.TB) []int {
	tb.Helper()
	var ref struct {
		Tokens []int `json:"tokens"`
	}
	if err := json.Unmarshal(readFile(tb, referencePath), &ref); err != nil {
		tb.Fatal(err)
	}
	if len(ref.Tokens) != 201 || ref.Tokens[0] != 1 {
		tb.Fatalf("reference.json: %d tokens starting %v, want BOS + 200", len(ref.Tokens), ref.Tokens[:1])
	}
	return ref.Tokens
}

// TestGreedy200Golden holds decoding to what llama2.c's run.c printed for
// the same ids: decode(prev, next) then safe_printf, prev starting at BOS.
func TestGreedy200Golden(t *testing.T) {
	tok := loadTok512(t)
	ids := referenceTokens(t)
	want := readFile(t, greedyPath)
	var got bytes.Buffer
	for i := 1; i < len(ids); i++ {
		got.WriteString(tok.SafePiece(ids[i-1], ids[i]))
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("decoded:\n%q\nrun.c printed:\n%q", got.Bytes(), want)
	}
	// No unprintable byte among them, so Decode agrees too.
	if d := tok.Decode(ids); d != string(want) {
		t.Fatalf("Decode:\n%q\nwant:\n%q", d, want)
	}
}

func TestPieceRules(t *testing.T) {
	tok := loadTok512(t)
	const bos, the, he = 1, 265, 260 // " the", "he"
	cases := []struct {
		prev, id int
		want     string
	}{
		{bos, the, "the"},       // leading space dropped after BOS
		{he, the, " the"},       // kept elsewhere
		{-1, the, " the"},       // and at the start without BOS
		{bos, he, "he"},         // nothing to drop
		{he, 3 + 'A', "A"},      // <0x41>
		{bos, 3 + ' ', " "},     // <0x20> is a byte token, not a leading-space piece
		{he, 3 + 0xC3, "\xc3"},  // raw byte, even if not UTF-8
		{he, 3, "\x00"},         // <0x00>
		{he, bos, ""},           // BOS and EOS decode to nothing
		{he, 2, ""},             //
		{he, 512, ""},           // out of range
		{he, -1, ""},            //
		{bos, 0, "<unk>"},       // run.c prints <unk> verbatim
		{bos, 511, "\u200a"},    // multi-byte piece
		{bos, 3 + '\n', "\n"},   // newline byte
		{bos, 3 + 0x7f, "\x7f"}, // DEL
	}
	for _, c := range cases {
		if got := tok.Piece(c.prev, c.id); got != c.want {
			t.Errorf("Piece(%d, %d) = %q, want %q", c.prev, c.id, got, c.want)
		}
	}
	if got := tok.Decode([]int{bos, 0x48 + 3, 0x69 + 3, the, 2}); got != "Hi the" {
		t.Errorf("Decode = %q", got)
	}
}

// TestSafePiece checks run.c's safe_printf: a single byte is printed only if
// isprint or isspace (C locale).
func TestSafePiece(t *testing.T) {
	tok := loadTok512(t)
	for b := range 256 {
		printable := (b >= 0x20 && b <= 0x7e) || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
		want := ""
		if printable {
			want = string([]byte{byte(b)})
		}
		if got := tok.SafePiece(260, b+3); got != want {
			t.Errorf("SafePiece(<0x%02X>) = %q, want %q", b, got, want)
		}
	}
	if got := tok.SafePiece(1, 265); got != "the" {
		t.Errorf("SafePiece(BOS, the) = %q", got)
	}
	if got := tok.SafePiece(1, 511); got != "\u200a" {
		t.Errorf("SafePiece(multi-byte) = %q", got)
	}
	// printf("%s") stops at NUL.
	nul, err := NewSentencePiece([]string{"<unk>", "<s>", "</s>", "ab\x00cd"}, make([]float32, 4), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := nul.SafePiece(0, 3); got != "ab" {
		t.Errorf("SafePiece with NUL = %q, want \"ab\"", got)
	}
}
