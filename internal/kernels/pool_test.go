package kernels

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// within fails the test if f has not returned after d (a deadlock would
// otherwise hang the whole test binary).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s: not done after %v (deadlock?)\n%s", what, d, buf[:runtime.Stack(buf, true)])
	}
}

// runChecked calls p.Run(n, ...) and checks that every index ran exactly
// once, that worker ids are in [0, Threads()) and that no two calls running at
// the same time share an id.
func runChecked(t *testing.T, p *Pool, n int, work func(i int)) error {
	threads := p.Threads()
	counts := make([]atomic.Int32, n)
	busy := make([]atomic.Bool, threads)
	var bad atomic.Value
	p.Run(n, func(w, i int) {
		if w < 0 || w >= threads {
			bad.Store(fmt.Sprintf("worker id %d outside [0, %d)", w, threads))
			return
		}
		if !busy[w].CompareAndSwap(false, true) {
			bad.Store(fmt.Sprintf("worker id %d used by two calls at once", w))
		}
		counts[i].Add(1)
		if work != nil {
			work(i)
		}
		busy[w].Store(false)
	})
	if s := bad.Load(); s != nil {
		return fmt.Errorf("n=%d: %s", n, s)
	}
	for i := range counts {
		if c := counts[i].Load(); c != 1 {
			return fmt.Errorf("n=%d: index %d ran %d times", n, i, c)
		}
	}
	return nil
}

// spin burns a little CPU so that calls overlap.
func spin(i int) {
	x := uint32(i)
	for range 200 + i%7*100 {
		x = x*1664525 + 1013904223
	}
	sinkU32.Add(x & 1)
}

var sinkU32 atomic.Uint32

func TestPoolRunOnce(t *testing.T) {
	for _, threads := range []int{-1, 1, 2, 3, 8} {
		p := NewPool(threads)
		if threads <= 0 && p.Threads() != runtime.GOMAXPROCS(0) || threads > 0 && p.Threads() != threads {
			t.Errorf("NewPool(%d).Threads() = %d", threads, p.Threads())
		}
		for _, n := range []int{0, 1, 2, 3, 1000} {
			for _, work := range []func(int){nil, spin} {
				if err := runChecked(t, p, n, work); err != nil {
					t.Errorf("threads=%d: %v", threads, err)
				}
			}
		}
		p.Close()
	}
	var nilPool *Pool
	if nilPool.Threads() != 1 {
		t.Errorf("nil pool: Threads() = %d, want 1", nilPool.Threads())
	}
	for _, n := range []int{0, 1, 1000} {
		if err := runChecked(t, nilPool, n, nil); err != nil {
			t.Errorf("nil pool: %v", err)
		}
	}
	nilPool.Close() // no-op
}

// With as many indices as threads and every call waiting for all the others
// to start, each goroutine of the pool runs exactly one call: the worker ids
// seen must be exactly 0..Threads()-1.
func TestPoolWorkerIDs(t *testing.T) {
	for _, threads := range []int{2, 3, 5} {
		p := NewPool(threads)
		within(t, 30*time.Second, fmt.Sprintf("%d calls at once", threads), func() {
			var started sync.WaitGroup
			started.Add(threads)
			ids := make([]atomic.Int32, threads)
			p.Run(threads, func(w, _ int) {
				started.Done()
				started.Wait()
				if w >= 0 && w < threads {
					ids[w].Add(1)
				} else {
					t.Errorf("worker id %d outside [0, %d)", w, threads)
				}
			})
			for w := range ids {
				if n := ids[w].Load(); n != 1 {
					t.Errorf("threads=%d: worker id %d used by %d concurrent calls", threads, w, n)
				}
			}
		})
		p.Close()
	}
}

func TestPoolConcurrentRuns(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	within(t, 30*time.Second, "concurrent Run", func() {
		var wg sync.WaitGroup
		errs := make(chan error, 8*20)
		for g := range 8 {
			wg.Go(func() {
				for r := range 20 {
					if err := runChecked(t, p, 1+(g*37+r*11)%300, spin); err != nil {
						errs <- fmt.Errorf("goroutine %d run %d: %v", g, r, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestPoolNestedRun(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		within(t, 30*time.Second, fmt.Sprintf("nested Run, %d threads", threads), func() {
			var total atomic.Int64
			// Three levels: every call of the outer two levels runs a Run of
			// its own on the same pool, from pool goroutines and the caller.
			err := runChecked(t, p, 16, func(i int) {
				if err := runChecked(t, p, 8, func(j int) {
					if err := runChecked(t, p, 4, func(int) { total.Add(1) }); err != nil {
						t.Error(err)
					}
				}); err != nil {
					t.Error(err)
				}
			})
			if err != nil {
				t.Error(err)
			}
			if got := total.Load(); got != 16*8*4 {
				t.Errorf("threads=%d: innermost calls %d, want %d", threads, got, 16*8*4)
			}
		})
		p.Close()
	}
}

// A nested Run whose outer calls all block until every inner call has
// started must still finish: the caller of each Run drains its own job.
func TestPoolNestedRunAllBusy(t *testing.T) {
	const threads = 3
	p := NewPool(threads)
	defer p.Close()
	within(t, 30*time.Second, "nested Run with busy workers", func() {
		var started sync.WaitGroup
		started.Add(threads)
		p.Run(threads, func(_, _ int) {
			started.Done()
			started.Wait() // every worker is now inside an outer call
			var n atomic.Int32
			p.Run(50, func(_, _ int) { n.Add(1) })
			if n.Load() != 50 {
				t.Errorf("inner Run made %d calls", n.Load())
			}
		})
	})
}

func TestPoolClose(t *testing.T) {
	before := runtime.NumGoroutine()
	p := NewPool(6)
	if err := runChecked(t, p, 100, spin); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Close() // idempotent
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before NewPool", n, before)
	}
}

func TestDefaultPool(t *testing.T) {
	p := DefaultPool()
	if p != DefaultPool() {
		t.Error("DefaultPool returned two pools")
	}
	if p.Threads() != runtime.GOMAXPROCS(0) {
		t.Errorf("DefaultPool().Threads() = %d, want GOMAXPROCS %d", p.Threads(), runtime.GOMAXPROCS(0))
	}
	if err := runChecked(t, p, 257, nil); err != nil {
		t.Error(err)
	}
}

func TestPoolForSmallWorkRunsOnCaller(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	if p.For(SerialWork-1) != nil {
		t.Fatal("work below SerialWork must run on the caller (nil pool)")
	}
	if p.For(SerialWork) != p {
		t.Fatal("work of SerialWork or more must use the pool")
	}
	if p.WithSerialWork(0).For(1) != p || p.WithSerialWork(1<<30).For(1<<29) != nil {
		t.Fatal("WithSerialWork does not move the threshold")
	}
	var nilPool *Pool
	if nilPool.For(1<<40) != nil {
		t.Fatal("a nil pool stays nil")
	}
}

// BenchmarkPoolHandoff is the pool's hand-off on short jobs, the shape of a
// decoding step's products: Runs of 2 indices of ~30 µs each, back to back.
// helper-share is the fraction of indices the helper ran (ideal 0.5) and
// start-µs its median delay from Run to its first index. Before the caller
// polled for completion (job.wait), the share was ~0.3 and the delay ~19 µs:
// the helper's last Done made the parked caller runnable on the helper's P,
// where it waited behind the polling helper.
func BenchmarkPoolHandoff(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS ≥ 2")
	}
	p := NewPool(2)
	defer p.Close()
	var helper, total int
	var starts []float64
	for b.Loop() {
		start := time.Now()
		var first atomic.Int64
		p.Run(2, func(w, _ int) {
			if w == 1 {
				first.Store(int64(time.Since(start)))
			}
			for t := time.Now(); time.Since(t) < 30*time.Microsecond; {
			}
		})
		total += 2
		if f := first.Load(); f > 0 {
			helper++
			starts = append(starts, float64(f)/1e3)
		}
	}
	b.ReportMetric(float64(helper)/float64(total), "helper-share")
	if len(starts) > 0 {
		slices.Sort(starts)
		b.ReportMetric(starts[len(starts)/2], "start-µs")
	}
}
