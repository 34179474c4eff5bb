package serve

import "testing"

// TestStopper: text goes out as soon as it cannot start a stop string or
// end inside a UTF-8 character; a stop string split over pieces is found.
func TestStopper(t *testing.T) {
	for _, c := range []struct {
		stops  []string
		pieces []string
		want   []string // output after each piece, then after flush
		hit    bool
	}{
		{nil, []string{"a", "b"}, []string{"a", "b", ""}, false},
		{[]string{"END"}, []string{"the E", "N", "D!"}, []string{"the ", "", ""}, true},
		{[]string{"END"}, []string{"the E", "N", "o"}, []string{"the ", "", "ENo", ""}, false},
		{[]string{"xyz", "b"}, []string{"aab"}, []string{"aa"}, true},
		{[]string{"\n\n"}, []string{"one\n", "two\n", "\nthree"}, []string{"one", "\ntwo", ""}, true},
		// "é" is 0xC3 0xA9, split over two tokens.
		{nil, []string{"caf\xc3", "\xa9!"}, []string{"caf", "é!", ""}, false},
	} {
		s := &stopper{stops: c.stops}
		var got []string
		hit := false
		for _, p := range c.pieces {
			out, h := s.add(p)
			got = append(got, out)
			if h {
				hit = true
				break
			}
		}
		if !hit {
			got = append(got, s.flush())
		}
		if hit != c.hit || len(got) != len(c.want) {
			t.Errorf("%q over %q: %q (hit %v), want %q (hit %v)", c.stops, c.pieces, got, hit, c.want, c.hit)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q over %q: %q, want %q", c.stops, c.pieces, got, c.want)
				break
			}
		}
	}
}
