package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// GPT-2's pre-tokenizer splits text with the regular expression
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// (Python's `regex` module; Hugging Face's ByteLevel pre-tokenizer uses the
// same pattern). Go's regexp has no lookahead, so gpt2Split implements the
// leftmost-first alternation by hand. At each position, in order:
//
//  1. a contraction: an apostrophe followed by s, t, re, ve, m, ll or d
//     (case-sensitive, so "'S" is not one);
//  2. an optional ASCII space and a maximal run of letters (\p{L}), or of
//     numbers (\p{N}), or of "other" characters (neither whitespace nor
//     letter nor number). The optional space is taken only when a character
//     of one of those classes follows it, exactly as the regex backtracks;
//  3. a maximal run of whitespace if it reaches the end of the text;
//     otherwise, if the run has two or more characters, the run without its
//     last character (\s+(?!\S) backtracks one character so that the last
//     one can start the next word, e.g. " word");
//  4. a single whitespace character followed by a non-space (\s+).
//
// \s is Unicode White_Space (what unicode.IsSpace tests, and exactly the set
// Python's `regex` \s matches, U+0085 included), \p{L} unicode.IsLetter and
// \p{N} unicode.IsNumber. A byte that is not valid UTF-8 counts as one
// "other" character, so every byte string splits into pieces that join back
// to it.

// charClass is the class of a character in the GPT-2 pattern.
type charClass uint8

const (
	classSpace charClass = iota
	classLetter
	classNumber
	classOther
)

// classAt returns the class and byte length of the character at s[i].
func classAt(s string, i int) (charClass, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch {
		case c == ' ' || c >= '\t' && c <= '\r':
			return classSpace, 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return classLetter, 1
		case c >= '0' && c <= '9':
			return classNumber, 1
		}
		return classOther, 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && n <= 1:
		return classOther, 1
	case unicode.IsSpace(r):
		return classSpace, n
	case unicode.IsLetter(r):
		return classLetter, n
	case unicode.IsNumber(r):
		return classNumber, n
	}
	return classOther, n
}

// contractions are the suffixes of rule 1, after the apostrophe.
var contractions = [...]string{"s", "t", "re", "ve", "m", "ll", "d"}

// gpt2Split appends to spans the [start, end) byte ranges of the pieces of
// s, which tile s.
func gpt2Split(s string, spans [][2]int) [][2]int {
	for i := 0; i < len(s); {
		j := gpt2Match(s, i)
		spans = append(spans, [2]int{i, j})
		i = j
	}
	return spans
}

// gpt2Match returns the end of the piece that starts at s[i].
func gpt2Match(s string, i int) int {
	if s[i] == '\'' {
		for _, c := range contractions {
			if strings.HasPrefix(s[i+1:], c) {
				return i + 1 + len(c)
			}
		}
	}
	start := i
	if s[i] == ' ' && i+1 < len(s) {
		if cl, _ := classAt(s, i+1); cl != classSpace {
			start = i + 1 // " ?" takes the space: a run follows
		}
	}
	cl, n := classAt(s, start)
	if cl != classSpace {
		j := start + n
		for j < len(s) {
			c, m := classAt(s, j)
			if c != cl {
				break
			}
			j += m
		}
		return j
	}
	// Whitespace: find the run and its last character.
	j, last := i, i
	for j < len(s) {
		c, m := classAt(s, j)
		if c != classSpace {
			break
		}
		last = j
		j += m
	}
	if j == len(s) || last == i {
		return j // \s+(?!\S) at the end, or a lone \s+ before a non-space
	}
	return last // \s+(?!\S): leave the last space to the next piece
}
