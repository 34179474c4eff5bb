package tokenizer

import (
	"errors"
	"fmt"
	"strings"
)

// SentencePiece is the llama2.c tokenizer: SentencePiece BPE with byte
// fallback. Pieces are raw strings (a space is ' ', not '▁'); byte tokens are
// the pieces "<0x00>".."<0xFF>". It is immutable after construction and safe
// for concurrent use.
type SentencePiece struct {
	pieces []string       // id → piece
	scores []float32      // id → merge score
	ids    map[string]int // piece → lowest id with that piece
	bos    int
	eos    int
	unk    int      // id emitted for a byte whose byte piece is missing
	space  int      // id of the piece " " (the dummy prefix), or -1
	byteID [256]int // byte → id of its "<0xHH>" piece, or unk
}

var _ Tokenizer = (*SentencePiece)(nil)

// ErrVocab reports an unusable vocabulary (empty, mismatched lengths, special
// ids out of range).
var ErrVocab = errors.New("tokenizer: bad vocabulary")

// NewSentencePiece builds a tokenizer from its pieces, their merge scores and
// the BOS/EOS ids. The slices are copied.
//
// Byte fallback uses the pieces "<0x00>".."<0xFF>" wherever they are (in
// llama2.c files they are ids 3..258, i.e. byte+3, exactly run.c's rule); a
// byte without a piece falls back to the "<unk>" piece (or id 0). When a
// piece occurs more than once, lookups find its lowest id.
func NewSentencePiece(pieces []string, scores []float32, bos, eos int) (*SentencePiece, error) {
	n := len(pieces)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: no pieces", ErrVocab)
	case len(scores) != n:
		return nil, fmt.Errorf("%w: %d pieces but %d scores", ErrVocab, n, len(scores))
	case bos < 0 || bos >= n:
		return nil, fmt.Errorf("%w: BOS id %d outside [0, %d)", ErrVocab, bos, n)
	case eos < 0 || eos >= n:
		return nil, fmt.Errorf("%w: EOS id %d outside [0, %d)", ErrVocab, eos, n)
	}
	return build(append([]string(nil), pieces...), append([]float32(nil), scores...), bos, eos), nil
}

// build indexes a validated vocabulary; it keeps the slices.
func build(pieces []string, scores []float32, bos, eos int) *SentencePiece {
	t := &SentencePiece{
		pieces: pieces,
		scores: scores,
		ids:    make(map[string]int, len(pieces)),
		bos:    bos,
		eos:    eos,
	}
	for id, p := range t.pieces {
		if _, dup := t.ids[p]; !dup {
			t.ids[p] = id
		}
	}
	t.unk = t.lookup("<unk>")
	if t.unk < 0 {
		t.unk = 0
	}
	t.space = t.lookup(" ")
	for b := range t.byteID {
		if id := t.lookup(fmt.Sprintf("<0x%02X>", b)); id >= 0 {
			t.byteID[b] = id
		} else {
			t.byteID[b] = t.unk
		}
	}
	return t
}

// lookup returns the id of piece s, or -1 (llama2.c's str_lookup).
func (t *SentencePiece) lookup(s string) int {
	if id, ok := t.ids[s]; ok {
		return id
	}
	return -1
}

// VocabSize is the number of pieces.
func (t *SentencePiece) VocabSize() int { return len(t.pieces) }

// BOS is the beginning-of-sequence id (1 in llama2.c files).
func (t *SentencePiece) BOS() int { return t.bos }

// EOS is the end-of-sequence id (2 in llama2.c files).
func (t *SentencePiece) EOS() int { return t.eos }

// Score is the merge score of id (0 if id is out of range).
func (t *SentencePiece) Score(id int) float32 {
	if id < 0 || id >= len(t.scores) {
		return 0
	}
	return t.scores[id]
}

// TokenText is the raw vocabulary string of id, "" if id is out of range.
func (t *SentencePiece) TokenText(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Piece returns the text id stands for when it follows prev, as llama2.c's
// decode(): after BOS a leading space is stripped, and a piece of the form
// "<0xHH>" becomes the single byte 0xHH. BOS, EOS and out-of-range ids give "".
func (t *SentencePiece) Piece(prev, id int) string {
	if id < 0 || id >= len(t.pieces) || id == t.bos || id == t.eos {
		return ""
	}
	p := t.pieces[id]
	if prev == t.bos && strings.HasPrefix(p, " ") {
		p = p[1:]
	}
	if b, ok := parseBytePiece(p); ok {
		return string([]byte{b})
	}
	return p
}

// SafePiece is Piece filtered as run.c's safe_printf() prints it: a piece
// that is a single byte which is neither printable nor whitespace (C locale
// isprint/isspace) gives "", and a piece is cut at a NUL byte (printf "%s").
func (t *SentencePiece) SafePiece(prev, id int) string {
	p := t.Piece(prev, id)
	if i := strings.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	if len(p) == 1 && !isPrint(p[0]) && !isSpace(p[0]) {
		return ""
	}
	return p
}

// Decode joins Piece over ids, each following the one before it (the first
// follows nothing), so text after a leading BOS loses its dummy-prefix space.
func (t *SentencePiece) Decode(ids []int) string {
	var b strings.Builder
	prev := -1
	for _, id := range ids {
		b.WriteString(t.Piece(prev, id))
		prev = id
	}
	return b.String()
}

// parseBytePiece reports whether p is exactly "<0xHH>" (hex digits of either
// case) and returns the byte.
func parseBytePiece(p string) (byte, bool) {
	if len(p) != 6 || p[:3] != "<0x" || p[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(p[3])
	lo, ok2 := hexVal(p[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isPrint is C's isprint in the C locale.
func isPrint(c byte) bool { return 0x20 <= c && c <= 0x7e }

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || ('\t' <= c && c <= '\r')
}
