package tokenizer

import "strings"

// WordPiece is the BERT tokenizer of a Hugging Face tokenizer.json with a
// "WordPiece" model: BertNormalizer (see bertNorm), BertPreTokenizer (split
// at whitespace and around punctuation), then greedy longest-match-first
// WordPiece with a continuation prefix ("##"); a word longer than
// max_input_chars_per_word characters, or with a part no vocabulary entry
// matches, becomes the unknown token ([UNK]) whole. Added tokens ([CLS],
// [MASK], …) are matched in the raw text before normalisation. Encode's bos
// and eos add the post-processor's [CLS] and [SEP].
//
// Decoding is lossy: the text was lowercased and stripped of accents and
// control characters, and spacing around punctuation is guessed (see
// Decode). It is immutable after construction and safe for concurrent use.
type WordPiece struct {
	tokens   []string       // id → vocabulary string ("" for unused ids)
	vocab    map[string]int // vocabulary string → id
	special  []bool         // id → a special added token (skipped by Decode)
	unk      int            // the unknown token
	prefix   string         // continuing_subword_prefix
	maxChars int            // max_input_chars_per_word
	norm     bertNorm       // all steps off when the file has no normalizer
	added    *addedSplitter
	cls, sep int  // BOS and EOS: the post-processor's first and last token
	cleanup  bool // decoder.cleanup
}

var _ Tokenizer = (*WordPiece)(nil)

// Encode returns the token ids of text (see EncodeOffsets).
func (t *WordPiece) Encode(text string, bos, eos bool) []int {
	return tokenIDs(t.EncodeOffsets(text, bos, eos))
}

// EncodeOffsets encodes text and gives each token the byte span in text of
// the characters it came from (a piece of a character that normalisation
// split, such as a Hangul syllable, spans the whole character). [CLS] has the
// empty span at 0 and [SEP] the empty span at len(text).
func (t *WordPiece) EncodeOffsets(text string, bos, eos bool) []Token {
	out := make([]Token, 0, len(text)/3+2)
	if bos {
		out = append(out, Token{ID: t.cls})
	}
	var norm []normRune
	var key strings.Builder
	t.added.split(text, func(start, end, id int) {
		if id >= 0 {
			out = append(out, Token{ID: id, Start: start, End: end})
			return
		}
		norm = t.norm.normalize(text[start:end], start, norm[:0])
		bertWords(norm, func(word []normRune) {
			out = t.wordPieces(out, word, &key)
		})
	})
	if eos {
		out = append(out, Token{ID: t.sep, Start: len(text), End: len(text)})
	}
	return out
}

// wordPieces appends the WordPiece tokens of one word: from the start, the
// longest prefix in the vocabulary (with the continuation prefix after the
// first piece), repeatedly; if some position has no match, or the word is too
// long, the word is one unknown token.
func (t *WordPiece) wordPieces(out []Token, word []normRune, key *strings.Builder) []Token {
	whole := Token{ID: t.unk, Start: word[0].start, End: word[len(word)-1].end}
	if len(word) > t.maxChars {
		return append(out, whole)
	}
	mark := len(out)
	for start := 0; start < len(word); {
		found := -1
		end := len(word)
		for ; end > start; end-- {
			key.Reset()
			if start > 0 {
				key.WriteString(t.prefix)
			}
			for _, c := range word[start:end] {
				key.WriteRune(c.r)
			}
			if id, ok := t.vocab[key.String()]; ok {
				found = id
				break
			}
		}
		if found < 0 {
			return append(out[:mark], whole)
		}
		out = append(out, Token{ID: found, Start: word[start].start, End: word[end-1].end})
		start = end
	}
	return out
}

// Piece returns the text of id when it follows prev, as Hugging Face's
// WordPiece decoder: special tokens ([CLS], [SEP], [PAD], [UNK], [MASK], …)
// give ""; a token after the start (prev < 0 or special) is a word start
// kept as is; otherwise a piece with the continuation prefix loses it and
// joins the previous one, and any other token gets a space in front. With
// decoder.cleanup, each piece is then cleaned like Hugging Face's cleanup
// (" ." → ".", " ," → ",", " 's" → "'s", " n't" → "n't", …).
func (t *WordPiece) Piece(prev, id int) string {
	if id < 0 || id >= len(t.tokens) || t.special[id] {
		return ""
	}
	s := t.tokens[id]
	if prev >= 0 && prev < len(t.tokens) && !t.special[prev] {
		if strings.HasPrefix(s, t.prefix) {
			s = s[len(t.prefix):]
		} else {
			s = " " + s
		}
	}
	if t.cleanup {
		s = wordPieceCleanup.Replace(s)
	}
	return s
}

// wordPieceCleanup is Hugging Face's decoders::wordpiece::cleanup. Its
// replacements are applied one after the other there; on a single piece
// (" x" or "x") at most one of them can apply, so one pass is the same.
var wordPieceCleanup = strings.NewReplacer(
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re")

// Decode returns Hugging Face's decode(ids, skip_special_tokens=true):
// special tokens are dropped first, then the rest joined as Piece describes
// (so unlike Piece over ids, a word after a dropped [MASK] in mid-text has
// its space). The result is lowercase, without accents, and with the
// original spacing around punctuation lost ("3.14" decodes as "3. 14").
func (t *WordPiece) Decode(ids []int) string {
	var b strings.Builder
	prev := -1
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || t.special[id] {
			continue
		}
		b.WriteString(t.Piece(prev, id))
		prev = id
	}
	return b.String()
}

// VocabSize is one more than the largest token id.
func (t *WordPiece) VocabSize() int { return len(t.tokens) }

// BOS is the [CLS] id.
func (t *WordPiece) BOS() int { return t.cls }

// EOS is the [SEP] id.
func (t *WordPiece) EOS() int { return t.sep }

// TokenText is the vocabulary string of id ("##ing"), or "".
func (t *WordPiece) TokenText(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}
