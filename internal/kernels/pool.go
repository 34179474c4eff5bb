package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a persistent set of worker goroutines that run index ranges in
// parallel. Work is handed out one index at a time through an atomic counter,
// so callers should make each index a coarse unit (a tile, a block of rows).
//
// Run may be called from several goroutines at once; inside one Run the worker
// numbers passed to fn are distinct and below Threads(), so callers can keep
// per-worker scratch in a slice indexed by worker.
type Pool struct {
	threads int
	jobs    chan *job
	once    sync.Once
}

type job struct {
	n    int64
	next atomic.Int64
	fn   func(worker, i int)
	wg   sync.WaitGroup
}

// NewPool starts a pool of threads workers (threads ≤ 0 means GOMAXPROCS).
// The caller of Run takes part as worker 0, so threads-1 goroutines start.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, jobs: make(chan *job, threads)}
	for w := 1; w < threads; w++ {
		go p.worker(w)
	}
	return p
}

// Threads is the number of workers, including the caller of Run.
func (p *Pool) Threads() int { return p.threads }

func (p *Pool) worker(w int) {
	for j := range p.jobs {
		j.drain(w)
	}
}

func (j *job) drain(w int) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(w, int(i))
		j.wg.Done()
	}
}

// Run calls fn(worker, i) for every i in [0, n) and returns when all calls
// have returned. Each call happens exactly once; which worker runs which i is
// not fixed, so fn must write only to places that depend on i (or to
// per-worker scratch) for results to be deterministic.
func (p *Pool) Run(n int, fn func(worker, i int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	j := &job{n: int64(n), fn: fn}
	j.wg.Add(n)
	helpers := p.threads - 1
	if n-1 < helpers {
		helpers = n - 1
	}
	for h := 0; h < helpers; h++ {
		select {
		case p.jobs <- j:
		default: // every helper is busy: the caller does more of the work
		}
	}
	j.drain(0)
	j.wg.Wait()
}

// Close stops the pool's goroutines. Run must not be called after Close.
func (p *Pool) Close() {
	p.once.Do(func() { close(p.jobs) })
}

var (
	defaultPoolMu sync.Mutex
	defaultPool   *Pool
)

// DefaultPool returns a process-wide pool with GOMAXPROCS workers, started on
// first use.
func DefaultPool() *Pool {
	defaultPoolMu.Lock()
	defer defaultPoolMu.Unlock()
	if defaultPool == nil {
		defaultPool = NewPool(0)
	}
	return defaultPool
}
