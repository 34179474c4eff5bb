package tokenizer

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// bertNorm is Hugging Face's BertNormalizer (normalizers/bert.rs). Each step
// works character by character, so every output character keeps the byte
// span of the input character it came from:
//
//  1. clean_text: drop NUL, U+FFFD (and invalid UTF-8) and control
//     characters (categories Cc, Cf, Co, Cs and unassigned Cn, except \t \n
//     \r); turn every other whitespace character (Unicode White_Space) into
//     ' ';
//  2. handle_chinese_chars: put spaces around CJK ideographs (Hugging Face's
//     block list, which skips U+2B820..U+2B91F);
//  3. strip_accents (when set, or when null and lowercase is set): NFD, then
//     drop nonspacing marks (Mn);
//  4. lowercase: per character, with full Unicode case mapping (U+0130 İ
//     becomes "i̇", two characters, as Rust's char::to_lowercase gives).
//
// Step 3 decomposes each character on its own; full NFD would also reorder
// consecutive combining marks, which only matters for marks that survive the
// Mn filter and are not already in canonical order.
type bertNorm struct {
	clean, chinese, strip, lower bool
}

// normRune is a normalised character and the byte span of its source.
type normRune struct {
	r          rune
	start, end int
}

// normalize appends the normalised characters of text, whose byte 0 is byte
// base of the original text, to out.
func (n bertNorm) normalize(text string, base int, out []normRune) []normRune {
	var dec []rune
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		start, end := base+i, base+i+size
		i += size
		if n.clean {
			if r == 0 || r == utf8.RuneError || isBertControl(r) {
				continue
			}
			if isBertSpace(r) {
				r = ' '
			}
		}
		if n.chinese && isChineseChar(r) {
			out = append(out, normRune{' ', start, end}, normRune{r, start, end}, normRune{' ', start, end})
			continue
		}
		dec = append(dec[:0], r)
		if n.strip && r >= utf8.RuneSelf {
			dec = dec[:0]
			for _, d := range norm.NFD.String(string(r)) {
				if !unicode.Is(unicode.Mn, d) {
					dec = append(dec, d)
				}
			}
		}
		for _, d := range dec {
			if !n.lower {
				out = append(out, normRune{d, start, end})
			} else if d == 'İ' {
				out = append(out, normRune{'i', start, end}, normRune{'\u0307', start, end})
			} else {
				out = append(out, normRune{unicode.ToLower(d), start, end})
			}
		}
	}
	return out
}

// isBertSpace is Hugging Face's BERT whitespace: \t, \n, \r and Unicode
// White_Space.
func isBertSpace(r rune) bool { return unicode.IsSpace(r) }

// isBertControl is Hugging Face's BERT control character: any "other"
// category (Cc, Cf, Co, Cs, Cn) except \t, \n and \r.
func isBertControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	return unicode.In(r, unicode.C) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isChineseChar reports the CJK ideograph blocks of Hugging Face's
// BertNormalizer (the original BERT list has 0x2B820 where it has 0x2B920).
func isChineseChar(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF || r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B920 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

// isBertPunct is the BertPreTokenizer's punctuation: ASCII punctuation
// (which includes symbols such as $ + < = > ^ ` | ~) and Unicode P*.
func isBertPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '!' && r <= '/' || r >= ':' && r <= '@' || r >= '[' && r <= '`' || r >= '{' && r <= '~'
	}
	return unicode.IsPunct(r)
}

// bertWords is the BertPreTokenizer: it splits normalised text into words
// at whitespace (dropped) and around punctuation (each punctuation character
// is a word), calling fn with each word.
func bertWords(text []normRune, fn func(word []normRune)) {
	start := 0
	for i, c := range text {
		space, punct := unicode.IsSpace(c.r), isBertPunct(c.r)
		if !space && !punct {
			continue
		}
		if i > start {
			fn(text[start:i])
		}
		if punct {
			fn(text[i : i+1])
		}
		start = i + 1
	}
	if start < len(text) {
		fn(text[start:])
	}
}
