package attention

import (
	"math/rand/v2"
	"testing"
)

// FuzzAttend draws shapes and masks from the fuzzer's bytes and checks that
// the fused kernel neither panics nor produces NaN, and that it agrees with
// the explicit float64 path.
func FuzzAttend(f *testing.F) {
	for _, s := range []string{"", "\x00", "\x01\x02\x03\x04\x05\x06\x07\x08", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4", "causal window padding mask bias alibi heads"} {
		f.Add([]byte(s), uint64(len(s)))
	}
	e := newTestEngine(3)
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		pos := 0
		r := func(n int) int {
			if pos >= len(data) {
				return 0
			}
			pos++
			return int(data[pos-1]) % n
		}
		c := randomCall(r, rand.New(rand.NewPCG(seed, 1)))
		var st Stats
		got := c.fused(t, e, &st)
		if hasNaN(got) {
			t.Fatalf("NaN/Inf in output for %+v %+v", c.sh, c.o)
		}
		if st.NonFinite() != 0 {
			t.Fatalf("NaN/Inf counted on finite inputs")
		}
		want, _ := c.reference(t)
		if d := maxAbsDiff(got, want); d > 1e-4 {
			t.Fatalf("fused vs reference: max abs error %.3g for %+v %+v", d, c.sh, c.o)
		}
	})
}
