package attention

import (
	"math"
	"testing"
)

// TestStatsReuse: a Stats reused from call to call reports exactly what a
// fresh one does. reset does not clear the values (each call writes every
// one), so a row or head left unwritten would show the last call's value:
// the calls alternate shapes and, at one shape, switch heads off and bring
// in NaN/Inf logits and outputs.
func TestStatsReuse(t *testing.T) {
	e := newTestEngine(2)
	reused := &Stats{}
	for seed := uint64(0); seed < 80; seed++ {
		c := seededCall(seed)
		for pass := 0; pass < 4; pass++ {
			switch pass {
			case 1: // the same shape with every other head switched off
				o := Options{}
				if c.o != nil {
					o = *c.o
				}
				o.HeadMask = make([]bool, c.sh.Heads)
				for h := range o.HeadMask {
					o.HeadMask[h] = h%2 == int(seed%2)
				}
				c.o = &o
			case 2: // all heads on again, NaN and Inf among the inputs
				o := *c.o
				o.HeadMask = nil
				c.o = &o
				c.q[len(c.q)/2] = float32(math.NaN())
				c.v[0] = float32(math.Inf(1))
			case 3: // finite again
				c.q[len(c.q)/2], c.v[0] = 0.5, 0.5
			}
			fresh := &Stats{}
			c.fused(t, e, fresh)
			c.fused(t, e, reused)
			if err := sameStats(reused, fresh); err != "" {
				t.Fatalf("seed %d pass %d (%+v): reused Stats: %s", seed, pass, c.sh, err)
			}
		}
	}
}

// sameStats compares two Stats bit for bit (NaN equal to NaN).
func sameStats(a, b *Stats) string {
	if a.Batch != b.Batch || a.Heads != b.Heads || a.SeqQ != b.SeqQ {
		return "shape differs"
	}
	f32 := func(name string, x, y []float32) string {
		if len(x) != len(y) {
			return name + ": length differs"
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) && !(x[i] != x[i] && y[i] != y[i]) {
				return name + ": values differ"
			}
		}
		return ""
	}
	i64 := func(name string, x, y []int64) string {
		if len(x) != len(y) {
			return name + ": length differs"
		}
		for i := range x {
			if x[i] != y[i] {
				return name + ": values differ"
			}
		}
		return ""
	}
	for _, s := range []string{
		f32("Entropy", a.Entropy, b.Entropy), f32("MaxWeight", a.MaxWeight, b.MaxWeight), f32("OutNorm", a.OutNorm, b.OutNorm),
		i64("ScoreNaN", a.ScoreNaN, b.ScoreNaN), i64("ScoreInf", a.ScoreInf, b.ScoreInf),
		i64("OutNaN", a.OutNaN, b.OutNaN), i64("OutInf", a.OutInf, b.OutInf),
	} {
		if s != "" {
			return s
		}
	}
	for i := range a.Attended {
		if len(a.Attended) != len(b.Attended) || a.Attended[i] != b.Attended[i] {
			return "Attended differs"
		}
	}
	return ""
}
