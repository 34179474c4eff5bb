package tokenizer

import (
	"fmt"
	"sort"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of a tokenizer.json's "added_tokens": a string that
// is cut out of the raw text before normalisation and pre-tokenisation and
// becomes its id whole.
type addedToken struct {
	id      int
	content string
	lstrip  bool // also swallow whitespace on its left
	rstrip  bool // also swallow whitespace on its right
	single  bool // match only as a whole word (single_word)
	special bool // a control token (skipped by WordPiece decoding)
}

// addedSplitter finds added tokens in text, leftmost first and, among those
// that start at the same place, longest first (Hugging Face's
// aho-corasick LeftmostLongest). A nil splitter finds nothing.
type addedSplitter struct {
	byFirst map[byte][]addedToken // candidates by first byte, longest first
}

// newAddedSplitter indexes toks; nil if there are none.
func newAddedSplitter(toks []addedToken) (*addedSplitter, error) {
	if len(toks) == 0 {
		return nil, nil
	}
	a := &addedSplitter{byFirst: map[byte][]addedToken{}}
	for _, t := range toks {
		if t.content == "" {
			return nil, fmt.Errorf("%w: added token %d has empty content", ErrVocab, t.id)
		}
		a.byFirst[t.content[0]] = append(a.byFirst[t.content[0]], t)
	}
	for _, list := range a.byFirst {
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].content) > len(list[j].content) })
	}
	return a, nil
}

// split calls fn for each part of text in order: an added token as (start,
// end, id) with its content's span, the text between them as (start, end,
// -1). Whitespace swallowed by lstrip/rstrip belongs to no part. Empty text
// parts are not reported.
func (a *addedSplitter) split(text string, fn func(start, end, id int)) {
	last := 0
	if a != nil {
		for i := 0; i < len(text); {
			t, ok := a.match(text, i)
			if !ok {
				i++
				continue
			}
			from, to := i, i+len(t.content)
			if t.lstrip {
				from = skipSpaceLeft(text, from, last)
			}
			if t.rstrip {
				to = skipSpaceRight(text, to)
			}
			if from > last {
				fn(last, from, -1)
			}
			fn(i, i+len(t.content), t.id)
			last, i = to, to
		}
	}
	if last < len(text) {
		fn(last, len(text), -1)
	}
}

// match returns the longest added token that occurs at text[i:].
func (a *addedSplitter) match(text string, i int) (addedToken, bool) {
	for _, t := range a.byFirst[text[i]] {
		if len(text)-i < len(t.content) || text[i:i+len(t.content)] != t.content {
			continue
		}
		if t.single && (isWordBefore(text, i) || isWordAfter(text, i+len(t.content))) {
			continue
		}
		return t, true
	}
	return addedToken{}, false
}

// isWordRune is what single_word tokens may not touch: a letter, a digit or
// '_'.
func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isWordBefore(text string, i int) bool {
	r, n := utf8.DecodeLastRuneInString(text[:i])
	return n > 0 && isWordRune(r)
}

func isWordAfter(text string, i int) bool {
	r, n := utf8.DecodeRuneInString(text[i:])
	return n > 0 && isWordRune(r)
}

// skipSpaceLeft moves i left over whitespace, not before floor.
func skipSpaceLeft(text string, i, floor int) int {
	for i > floor {
		r, n := utf8.DecodeLastRuneInString(text[floor:i])
		if !unicode.IsSpace(r) {
			break
		}
		i -= n
	}
	return i
}

// skipSpaceRight moves i right over whitespace.
func skipSpaceRight(text string, i int) int {
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}
