package serve

import (
	"strings"
	"unicode/utf8"
)

// stopper applies OpenAI stop strings to text arriving piece by piece. It
// passes text on as soon as it cannot be the start of a stop string (nor
// the first bytes of a UTF-8 character split across tokens), and cuts the
// text where the first stop string begins.
//
// Any occurrence of a stop string starts inside pending: text that was
// passed on had no suffix that is a prefix of a stop string.
type stopper struct {
	stops   []string
	pending string // held back: might begin a stop string or a split character
}

// add appends piece and returns the text that can go out now; hit reports
// that a stop string was found (the returned text is everything before it,
// and nothing more may be added).
func (s *stopper) add(piece string) (out string, hit bool) {
	p := s.pending + piece
	first := -1
	for _, st := range s.stops {
		if i := strings.Index(p, st); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		s.pending = ""
		return p[:first], true
	}
	hold := 0 // longest suffix of p that is a proper prefix of a stop string
	for _, st := range s.stops {
		for k := min(len(st)-1, len(p)); k > hold; k-- {
			if strings.HasSuffix(p, st[:k]) {
				hold = k
				break
			}
		}
	}
	cut := len(p) - hold
	// Do not split a UTF-8 character: back off to the start of an
	// incomplete last character.
	for i := cut - 1; i >= 0 && i >= cut-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRuneInString(p[i:cut]) {
				cut = i
			}
			break
		}
	}
	s.pending = p[cut:]
	return p[:cut], false
}

// flush returns whatever is held back (at the end of generation).
func (s *stopper) flush() string {
	out := s.pending
	s.pending = ""
	return out
}
