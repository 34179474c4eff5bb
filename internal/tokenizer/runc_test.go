package tokenizer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// runcEncode is llama2.c's encode() (run.c) transliterated statement by
// statement: C-string text (stops at NUL), BOS pushed before merging, the
// codepoint loop with str_len, byte fallback as byte+3, and the quadratic
// merge loop that rescans every pair for the best score. Besides ids it keeps
// each token's byte span, merged alongside. It is the reference the priority
// queue merge must reproduce.
func runcEncode(pieces []string, scores []float32, text string, bos, eos bool) []Token {
	sorted := make(map[string]int, len(pieces)) // str_lookup; lowest id wins
	for id := len(pieces) - 1; id >= 0; id-- {
		sorted[pieces[id]] = id
	}
	strLookup := func(s string) int {
		if id, ok := sorted[s]; ok {
			return id
		}
		return -1
	}
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	var tokens []Token
	if bos {
		tokens = append(tokens, Token{ID: 1})
	}
	if text != "" {
		tokens = append(tokens, Token{ID: strLookup(" ")})
	}
	var strBuffer []byte
	start := 0
	for c := 0; c < len(text); c++ {
		if text[c]&0xC0 != 0x80 {
			strBuffer = strBuffer[:0]
		}
		if len(strBuffer) == 0 {
			start = c
		}
		strBuffer = append(strBuffer, text[c])
		if c+1 < len(text) && text[c+1]&0xC0 == 0x80 && len(strBuffer) < 4 {
			continue
		}
		if id := strLookup(string(strBuffer)); id != -1 {
			tokens = append(tokens, Token{ID: id, Start: start, End: c + 1})
		} else {
			for i, b := range strBuffer {
				tokens = append(tokens, Token{ID: int(b) + 3, Start: start + i, End: start + i + 1})
			}
		}
		strBuffer = strBuffer[:0]
	}
	for {
		bestScore := float32(-1e10)
		bestID, bestIdx := -1, -1
		for i := 0; i < len(tokens)-1; i++ {
			id := strLookup(pieces[tokens[i].ID] + pieces[tokens[i+1].ID])
			if id != -1 && scores[id] > bestScore {
				bestScore, bestID, bestIdx = scores[id], id, i
			}
		}
		if bestIdx == -1 {
			break
		}
		tokens[bestIdx] = Token{ID: bestID, Start: tokens[bestIdx].Start, End: tokens[bestIdx+1].End}
		tokens = slices.Delete(tokens, bestIdx+1, bestIdx+2)
	}
	if eos {
		tokens = append(tokens, Token{ID: 2, Start: len(text), End: len(text)})
	}
	return tokens
}

// randomText mixes vocabulary pieces, words, runes of every UTF-8 length,
// stray continuation bytes and arbitrary bytes (never NUL, where C stops).
func randomText(r *rand.Rand, pieces []string, n int) string {
	var b strings.Builder
	for b.Len() < n {
		switch r.IntN(8) {
		case 0, 1, 2:
			b.WriteString(pieces[r.IntN(len(pieces))])
		case 3:
			b.WriteString([]string{" ", "  ", "\n", ", ", ".", "<0x41>", "\t", "Once"}[r.IntN(8)])
		case 4:
			b.WriteRune([]rune{'é', 'ö', '✓', '€', '™', '🙂', '中', 0x10FFFF}[r.IntN(8)])
		case 5:
			for range 1 + r.IntN(6) {
				b.WriteByte(0x80 | byte(r.IntN(64)))
			}
		default:
			b.WriteByte(byte(1 + r.IntN(255)))
		}
	}
	return b.String()
}

// checkSame compares EncodeOffsets with runcEncode on one text.
func checkSame(t *testing.T, tok *SentencePiece, text string, bos, eos bool) {
	t.Helper()
	got := tok.EncodeOffsets(text, bos, eos)
	want := runcEncode(tok.pieces, tok.scores, text, bos, eos)
	if !slices.Equal(got, want) {
		t.Fatalf("text %q (bos %v eos %v):\n got %v\nwant %v", text, bos, eos, got, want)
	}
	if ids := tok.Encode(text, bos, eos); len(ids) != len(got) {
		t.Fatalf("Encode gives %d ids, EncodeOffsets %d", len(ids), len(got))
	}
}

func TestEncodeMatchesRunCTok512(t *testing.T) {
	tok := loadTok512(t)
	golden := string(readFile(t, greedyPath))
	for _, text := range append(roundTripTexts, golden, golden[:100], strings.Repeat(golden, 5)) {
		if strings.IndexByte(text, 0) < 0 {
			checkSame(t, tok, text, true, false)
			checkSame(t, tok, text, false, true)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		checkSame(t, tok, randomText(r, tok.pieces[3:], r.IntN(200)), r.IntN(2) == 0, r.IntN(2) == 0)
	}
}

// TestEncodeMatchesRunCRandomVocab uses small random vocabularies over a few
// fragments, so that merges collide and scores tie, with the scores run.c
// treats specially (-1e10 and below, NaN, -0) and duplicate pieces.
func TestEncodeMatchesRunCRandomVocab(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	frags := []string{"a", "b", " ", "é", "\x80", "ab"}
	special := []float32{0, -1, -1, -2, -3, 5, -1e10, -2e10, float32(math.NaN()), float32(math.Copysign(0, -1)), float32(math.Inf(1))}
	for range 300 {
		pieces := []string{"<unk>", "<s>", "</s>"}
		for b := range 256 {
			pieces = append(pieces, fmt.Sprintf("<0x%02X>", b))
		}
		pieces = append(pieces, " ")
		for range 5 + r.IntN(40) {
			var p strings.Builder
			for range 1 + r.IntN(3) {
				p.WriteString(frags[r.IntN(len(frags))])
			}
			pieces = append(pieces, p.String())
		}
		scores := make([]float32, len(pieces))
		for i := 259; i < len(scores); i++ {
			scores[i] = special[r.IntN(len(special))]
		}
		tok, err := NewSentencePiece(pieces, scores, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			var text strings.Builder
			for range r.IntN(30) {
				text.WriteString(frags[r.IntN(len(frags))])
			}
			checkSame(t, tok, text.String(), r.IntN(2) == 0, r.IntN(2) == 0)
		}
	}
}

// TestEncodeLargeMatchesRunC checks a few kilobytes, where the rescan is
// still affordable.
func TestEncodeLargeMatchesRunC(t *testing.T) {
	if testing.Short() {
		t.Skip("quadratic reference")
	}
	tok := loadTok512(t)
	r := rand.New(rand.NewPCG(5, 6))
	text := randomText(r, tok.pieces[3:], 4000)
	if !utf8.ValidString(text) {
		t.Logf("%d bytes, invalid UTF-8 included", len(text))
	}
	checkSame(t, tok, text, true, true)
}
