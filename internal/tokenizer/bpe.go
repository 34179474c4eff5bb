package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// BPE is a byte-level BPE tokenizer: GPT-2's (OpenAI's encoder.py), and the
// "BPE" model with a ByteLevel pre-tokenizer of Hugging Face tokenizer.json
// files (GPT-2, RoBERTa, GPT-J, …). Text is split by the GPT-2 pattern (see
// gpt2Split), each piece's UTF-8 bytes become the 256 byte tokens, and merges
// are applied lowest rank first. Decoding maps tokens back to their bytes, so
// Decode(Encode(s)) == s for every string, valid UTF-8 or not (as long as the
// text contains no added token that is BOS or EOS: those decode to "").
// It is immutable after construction and safe for concurrent use.
type BPE struct {
	tokens   []string         // id → vocabulary string ("" for unused ids)
	bytesOf  []string         // id → the bytes the token stands for
	vocab    map[string]int   // vocabulary string → id
	merges   map[uint64]merge // left<<32 | right → merge
	byteTok  [256]int         // byte → id of its single-byte token
	added    *addedSplitter   // added tokens, matched in the raw text first
	bos, eos int              // -1 when the vocabulary has none
	prefix   bool             // ByteLevel add_prefix_space
	useRegex bool             // ByteLevel use_regex (false: no split)
}

// merge is one BPE rule: (left, right) → result, lowest rank first.
type merge struct {
	rank, result int32
}

var _ Tokenizer = (*BPE)(nil)

// byteChars is GPT-2's bytes_to_unicode: byte b is written as the rune
// byteChars[b] in vocabulary strings. Printable Latin-1 bytes stand for
// themselves; the others are mapped, in byte order, to U+0100, U+0101, ….
var byteChars = func() (t [256]rune) {
	n := rune(0)
	for b := range 256 {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			t[b] = rune(b)
		} else {
			t[b] = 256 + n
			n++
		}
	}
	return t
}()

// LoadGPT2 builds the GPT-2 tokenizer from OpenAI's encoder.json (token →
// id) and vocab.bpe (merges.txt: an optional "#version" line, then one merge
// "left right" per line, highest priority first). BOS and EOS are
// "<|endoftext|>". As in OpenAI's encoder.py, no text is treated as a special
// token: "<|endoftext|>" written in the text is encoded as ordinary text.
func LoadGPT2(encoderJSON, vocabBPE []byte) (*BPE, error) {
	var vocab map[string]int
	if err := json.Unmarshal(encoderJSON, &vocab); err != nil {
		return nil, fmt.Errorf("%w: encoder.json: %v", ErrVocab, err)
	}
	merges, err := parseMergesTxt(vocabBPE)
	if err != nil {
		return nil, err
	}
	eot, ok := vocab["<|endoftext|>"]
	if !ok {
		return nil, fmt.Errorf("%w: encoder.json has no <|endoftext|>", ErrVocab)
	}
	return newBPE(vocab, merges, nil, eot, eot, false, true)
}

// parseMergesTxt reads vocab.bpe / merges.txt.
func parseMergesTxt(data []byte) ([][2]string, error) {
	var merges [][2]string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || n == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: merges line %d: %q is not two tokens", ErrVocab, n+1, line)
		}
		merges = append(merges, [2]string{f[0], f[1]})
	}
	return merges, nil
}

// newBPE indexes a vocabulary. Every byte must have its single-byte token
// and every merge's parts and result must be in the vocabulary (Hugging Face
// refuses such files too); ids must be in [0, maxVocabID).
func newBPE(vocab map[string]int, merges [][2]string, added []addedToken, bos, eos int, prefix, useRegex bool) (*BPE, error) {
	n, err := vocabSize(vocab, added)
	if err != nil {
		return nil, err
	}
	t := &BPE{
		tokens:   make([]string, n),
		bytesOf:  make([]string, n),
		vocab:    make(map[string]int, len(vocab)),
		merges:   make(map[uint64]merge, len(merges)),
		bos:      bos,
		eos:      eos,
		prefix:   prefix,
		useRegex: useRegex,
	}
	var byteOf [512]int16 // rune → byte for the runes of byteChars
	for i := range byteOf {
		byteOf[i] = -1
	}
	for b, r := range byteChars {
		byteOf[r] = int16(b)
	}
	for s, id := range vocab {
		t.setToken(id, s, &byteOf)
	}
	for _, a := range added {
		t.setToken(a.id, a.content, nil)
	}
	for b, r := range byteChars {
		id, ok := t.vocab[string(r)]
		if !ok {
			return nil, fmt.Errorf("%w: no token for byte 0x%02X (%q)", ErrVocab, b, r)
		}
		t.byteTok[b] = id
	}
	for rank, m := range merges {
		l, okL := t.vocab[m[0]]
		r, okR := t.vocab[m[1]]
		res, okRes := t.vocab[m[0]+m[1]]
		if !okL || !okR || !okRes {
			return nil, fmt.Errorf("%w: merge %d (%q %q) uses or makes a token not in the vocabulary", ErrVocab, rank+1, m[0], m[1])
		}
		key := uint64(l)<<32 | uint64(r)
		if _, dup := t.merges[key]; !dup { // the first (highest priority) wins
			t.merges[key] = merge{rank: int32(rank), result: int32(res)}
		}
	}
	if t.added, err = newAddedSplitter(added); err != nil {
		return nil, err
	}
	return t, nil
}

// setToken records token id with vocabulary string s. With byteOf, s is
// byte-level text and bytesOf[id] its bytes (a rune outside the byte
// alphabet stands for its own UTF-8); without, s is literal text.
func (t *BPE) setToken(id int, s string, byteOf *[512]int16) {
	t.tokens[id] = s
	if prev, dup := t.vocab[s]; !dup || id < prev {
		t.vocab[s] = id
	}
	if byteOf == nil {
		t.bytesOf[id] = s
		return
	}
	var b []byte
	for _, r := range s {
		if r >= 0 && r < 512 && byteOf[r] >= 0 {
			b = append(b, byte(byteOf[r]))
		} else {
			b = append(b, string(r)...)
		}
	}
	t.bytesOf[id] = string(b)
}

// Encode returns the token ids of text (see EncodeOffsets).
func (t *BPE) Encode(text string, bos, eos bool) []int {
	return tokenIDs(t.EncodeOffsets(text, bos, eos))
}

// EncodeOffsets encodes text: added tokens are matched in the raw text first
// (leftmost, longest), each stretch between them is split by the GPT-2
// pattern (after a space is put in front when add_prefix_space asks for it:
// that space has an empty span), and each piece is byte-pair encoded. Token
// spans are byte ranges of text; a token that holds part of a multi-byte
// character spans the bytes it holds, and a leading space is part of the
// span (" world" spans " world"). BOS (empty span at 0) and EOS (empty span
// at len(text)) are added if asked and if the vocabulary has them.
func (t *BPE) EncodeOffsets(text string, bos, eos bool) []Token {
	out := make([]Token, 0, len(text)/3+2)
	if bos && t.bos >= 0 {
		out = append(out, Token{ID: t.bos})
	}
	var spans [][2]int
	var buf bytes.Buffer
	t.added.split(text, func(start, end, id int) {
		if id >= 0 {
			out = append(out, Token{ID: id, Start: start, End: end})
			return
		}
		seg := text[start:end]
		shift := 0
		if t.prefix && seg != "" && seg[0] != ' ' {
			buf.Reset()
			buf.WriteByte(' ')
			buf.WriteString(seg)
			seg, shift = buf.String(), 1
		}
		spans = spans[:0]
		if t.useRegex {
			spans = gpt2Split(seg, spans)
		} else if seg != "" {
			spans = append(spans, [2]int{0, len(seg)})
		}
		for _, sp := range spans {
			out = t.encodeWord(out, seg[sp[0]:sp[1]], start+sp[0]-shift, start)
		}
	})
	if eos && t.eos >= 0 {
		out = append(out, Token{ID: t.eos, Start: len(text), End: len(text)})
	}
	return out
}

// Piece returns the bytes token id stands for (possibly part of a UTF-8
// character); BOS, EOS and ids outside the vocabulary give "". prev is not
// used: byte-level tokens carry their own spaces.
func (t *BPE) Piece(prev, id int) string {
	if id < 0 || id >= len(t.bytesOf) || id == t.bos || id == t.eos {
		return ""
	}
	return t.bytesOf[id]
}

// Decode joins the bytes of ids (see Piece).
func (t *BPE) Decode(ids []int) string { return decodeWith(t, ids) }

// VocabSize is one more than the largest token id.
func (t *BPE) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence id, -1 if there is none.
func (t *BPE) BOS() int { return t.bos }

// EOS is the end-of-sequence id, -1 if there is none.
func (t *BPE) EOS() int { return t.eos }

// TokenText is the vocabulary string of id ("Ġworld" for " world"), or "".
func (t *BPE) TokenText(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// tokenIDs drops the spans.
func tokenIDs(toks []Token) []int {
	ids := make([]int, len(toks))
	for i, tok := range toks {
		ids[i] = tok.ID
	}
	return ids
}

// decodeWith joins t.Piece over ids, each following the one before it (the
// first follows -1).
func decodeWith(t Tokenizer, ids []int) string {
	var b strings.Builder
	prev := -1
	for _, id := range ids {
		b.WriteString(t.Piece(prev, id))
		prev = id
	}
	return b.String()
}
