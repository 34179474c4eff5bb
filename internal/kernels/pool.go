package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
	serial  int64 // work below which For says run serially (SerialWork)
	jobs    chan *job
	once    sync.Once
}

// SerialWork is the multiply-adds below which a product or an attention
// call runs on its caller alone: waking a parked helper costs tens of
// microseconds on a VM (a futex wake of an idle vCPU), and a helper that
// wakes late and claims the last index makes the caller wait for it, which
// for small work costs more than the split saves. At 1 << 17 a 12-token
// prefill of stories260K split 15 products and took 0.42–0.50 ms; at
// 1 << 20 (≈ 50–100 µs of work) it takes 0.32–0.45 ms, with no loss on the
// 768-wide model's decoding or prefill (2 threads; see docs/performance.md).
const SerialWork = 1 << 20

// For is p when work (multiply-adds) is worth splitting, else nil (run on
// the caller).
func (p *Pool) For(work int64) *Pool {
	if p == nil || work < p.serial {
		return nil
	}
	return p
}

// WithSerialWork sets the work below which For runs on the caller (default
// SerialWork) and returns p: tests set 0 so that small shapes take the
// parallel path too. Call it before the pool is shared.
func (p *Pool) WithSerialWork(work int64) *Pool {
	p.serial = work
	return p
}

type job struct {
	n int64
	// The indices are split into one contiguous share per worker (share w:
	// [w·n/T, (w+1)·n/T)); a worker claims from its own share first, then
	// from the others' (see drain).
	shares []share
	inline [4]share     // shares' memory for pools of up to 4 workers (one allocation per Run)
	done   atomic.Int64 // indices that have run
	fn     func(worker, i int)
	wg     sync.WaitGroup
}

// NewPool starts a pool of threads workers (threads ≤ 0 means GOMAXPROCS).
// The caller of Run takes part as worker 0, so threads-1 goroutines start.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, serial: SerialWork, jobs: make(chan *job, threads)}
	for w := 1; w < threads; w++ {
		go p.worker(w)
	}
	return p
}

// Threads is the number of workers, including the caller of Run. A nil
// *Pool runs everything on the caller, so its Threads is 1.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

func (p *Pool) worker(w int) {
	for {
		j, ok := p.next()
		if !ok {
			return
		}
		j.drain(w)
	}
}

// Spin is how long an idle helper keeps polling for the next job before it
// parks on the queue, and how long Run's caller polls for the helpers'
// last indices before it sleeps. A parked helper takes tens of microseconds
// to wake on a VM, and by then the caller has claimed most indices of a
// short job: decoding the 768-wide model on 2 threads, the helper ran a
// quarter of the pooled work and 2 threads decoded no faster than one.
// Polling (as OpenMP's spin-wait before sleeping) catches the job at once;
// an idle pool costs at most this much CPU per job. The poll reads the
// queue's length and does not yield: yielding (runtime.Gosched) sent the
// helper through the scheduler and delayed its start by ~19 µs
// (BenchmarkPoolHandoff).
const Spin = 200 * time.Microsecond

// next returns the next job, or false once the pool is closed: it polls the
// queue for up to Spin, then waits on it. (A polling goroutine is still
// preempted by the runtime when others need its P.)
func (p *Pool) next() (*job, bool) {
	start := time.Now()
	for i := 1; ; i++ {
		if len(p.jobs) > 0 {
			select {
			case j, ok := <-p.jobs:
				return j, ok
			default:
			}
		}
		if i%256 == 0 && time.Since(start) > Spin { // the clock every 256 polls
			break
		}
	}
	j, ok := <-p.jobs
	return j, ok
}

// share is one worker's contiguous part [next, end) of a job's indices.
type share struct {
	next atomic.Int64
	end  int64
	_    [48]byte // its own cache line: the owner claims from it at every index
}

// drain runs indices of j as worker w until none is left: first its own
// share in order, then what remains of the others' (worker w+1's first).
// Which worker runs an index is thus the same from call to call when the
// workers keep pace with each other — a thread writes the same outputs each
// time, which stay in its cache (as OpenMP's static schedule) — and the
// stealing still balances uneven indices or a helper that starts late.
func (j *job) drain(w int) {
	t := len(j.shares)
	for v := range t {
		sh := &j.shares[(w+v)%t]
		for {
			i := sh.next.Add(1) - 1
			if i >= sh.end {
				break
			}
			j.fn(w, int(i))
			j.done.Add(1)
			j.wg.Done()
		}
	}
}

// wait returns once every index of j has run. It polls first, for up to
// Spin: a caller parked in the WaitGroup is made runnable by the helper's
// last Done on the helper's own P, where it waits behind the polling helper
// until another P steals it (tens of microseconds on a VM), whereas a
// polling caller never sleeps and the helpers' Done wakes nobody.
func (j *job) wait() {
	start := time.Now()
	for i := 1; j.done.Load() < j.n; i++ {
		if i%256 == 0 && time.Since(start) > Spin {
			break
		}
	}
	j.wg.Wait()
}

// Run calls fn(worker, i) for every i in [0, n) and returns when all calls
// have returned. Each call happens exactly once; which worker runs which i is
// not fixed, so fn must write only to places that depend on i (or to
// per-worker scratch) for results to be deterministic.
//
// fn may itself call Run on the same pool (nested parallelism). This cannot
// deadlock: the job is only offered to idle helpers (a full queue is skipped,
// not waited on), the caller runs every index nobody else has claimed, and an
// index claimed by another goroutine is already running there; it can only be
// waiting on a Run started inside it, later than this one, so waits never form
// a cycle. A nested Run numbers its own workers from 0 again.
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
	j.shares = j.inline[:min(p.threads, len(j.inline))]
	if p.threads > len(j.inline) {
		j.shares = make([]share, p.threads)
	}
	for w := range j.shares {
		j.shares[w].next.Store(int64(w * n / p.threads))
		j.shares[w].end = int64((w + 1) * n / p.threads)
	}
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
	j.wait()
}

// Close stops the pool's goroutines. Run must not be called after Close.
// Closing twice, or closing a nil *Pool, does nothing.
func (p *Pool) Close() {
	if p == nil {
		return
	}
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
