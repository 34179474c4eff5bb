// Package progress draws a progress bar on a terminal for work that takes
// more than a second: nothing is printed for quick work.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Delay is how long work runs before its bar appears.
const Delay = time.Second

// Bar counts units of work (bytes, tensors) toward a total. It is safe for
// concurrent use; a nil *Bar does nothing.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	total int64
	done  int64
	start time.Time
	drawn time.Time // last draw; zero until the bar first appears
	now   func() time.Time
}

// New starts a bar for total units, drawn on w (nil: never drawn).
func New(w io.Writer, label string, total int64) *Bar {
	return &Bar{w: w, label: label, total: total, start: time.Now(), now: time.Now}
}

// Add records n more units done and redraws at most ten times a second,
// once Delay has passed.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	t := b.now()
	if b.w == nil || t.Sub(b.start) < Delay || t.Sub(b.drawn) < 100*time.Millisecond {
		return
	}
	b.drawn = t
	fmt.Fprintf(b.w, "\r%s", b.line(t))
}

// Finish draws the final state (if the bar appeared) and ends its line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w == nil || b.drawn.IsZero() {
		return
	}
	fmt.Fprintf(b.w, "\r%s\n", b.line(b.now()))
}

func (b *Bar) line(t time.Time) string {
	const width = 30
	frac := 1.0
	if b.total > 0 {
		frac = min(1, float64(b.done)/float64(b.total))
	}
	fill := int(frac * width)
	return fmt.Sprintf("%s [%s%s] %3.0f%% %s", b.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		100*frac, t.Sub(b.start).Round(100*time.Millisecond))
}
