package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBarAppearsOnlyAfterDelay(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, "loading", 100)
	clock := b.start
	b.now = func() time.Time { return clock }
	b.Add(10)
	clock = clock.Add(500 * time.Millisecond)
	b.Add(10)
	if out.Len() != 0 {
		t.Fatalf("bar drawn before the delay: %q", out.String())
	}
	clock = clock.Add(time.Second)
	b.Add(30)
	if !strings.Contains(out.String(), " 50%") || !strings.Contains(out.String(), "loading [===============") {
		t.Fatalf("bar at 50%%: %q", out.String())
	}
	clock = clock.Add(time.Second)
	b.Add(50)
	b.Finish()
	if !strings.HasSuffix(out.String(), "100% 2.5s\n") {
		t.Fatalf("final bar %q", out.String())
	}
	var quiet bytes.Buffer
	q := New(&quiet, "quick", 1)
	q.Add(1)
	q.Finish()
	if quiet.Len() != 0 {
		t.Fatalf("quick work drew a bar: %q", quiet.String())
	}
	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Finish()
}
