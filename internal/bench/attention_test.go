package bench

import (
	"testing"
	"time"
)

// TestMinTimeDecides: a case far shorter than MinTime keeps running until
// MinTime has passed or the default cap of 10,000 runs is reached (it used
// to stop after 20 runs, so a 1 ms case was measured for 20 ms whatever
// --min-time said), and MaxReps still caps it.
func TestMinTimeDecides(t *testing.T) {
	c := Case{Op: "attention", Batch: 1, Seq: 64, DModel: 64, Heads: 4, Threads: 1}
	start := time.Now()
	r, err := RunAttention(c, Options{MinReps: 1, MinTime: 50 * time.Millisecond, Warmup: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); (el < 50*time.Millisecond && r.Reps < 10000) || r.Reps <= 20 {
		t.Errorf("ran %d reps in %v, want > 20 reps over ≥ 50ms", r.Reps, el)
	}
	r, err = RunAttention(c, Options{MinReps: 1, MaxReps: 7, MinTime: time.Minute, Warmup: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reps != 7 {
		t.Errorf("MaxReps 7: %d reps", r.Reps)
	}
}
