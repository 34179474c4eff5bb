package serve

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/telemetry"
	"github.com/headlight/headlight/internal/tensor"
	"go.opentelemetry.io/otel/trace"
)

// jobKind says what a job asks of the model.
type jobKind int

const (
	kindGenerate  jobKind = iota // prefill + decode, batched with others
	kindAttention                // one forward pass with statistics and maps, alone
)

// event is what the scheduler sends a generation job: one per token, then
// a last one with finish or err set. A quiet job gets only the last event,
// with every generated token in tokens.
type event struct {
	token  int
	tokens []int  // quiet jobs: the generated tokens, on the last event
	finish string // "stop" or "length" on the last event
	err    error  // the last event on failure
}

// job is one request in a model's queue.
type job struct {
	ctx       context.Context // cancelled when the client goes away
	kind      jobKind
	prompt    []int // token ids, BOS first
	maxTokens int
	stop      []int // token ids that end generation without being emitted
	sampling  engine.Sampling
	sampled   bool      // record head statistics
	capture   bool      // keep the prompt's attention maps (sampled capture)
	warm      bool      // warm-up: no token or latency metrics
	arrived   time.Time // when the HTTP request arrived
	enqueued  time.Time
	// busy: the model was running a batch or had requests queued when this
	// one arrived, so waiting for company is likely to fill a batch.
	busy bool

	// events has room for every event the job can get (maxTokens+1, or 1
	// when quiet), so the scheduler never blocks on a slow client.
	events chan event
	// quiet: nobody reads tokens as they come (a non-streamed answer
	// without stop strings), so the scheduler keeps them in out and sends
	// one last event instead of waking the handler for every token.
	quiet bool
	out   []int // quiet jobs: generated tokens (scheduler-owned until the last event)
	// finished: the job has had its last event (set by the goroutine that
	// drives the model; read only by an inline driver, runInline).
	finished bool

	maps   []mapRef         // kindAttention: heads whose maps to return
	result chan *attnResult // kindAttention: buffered 1
}

// worker runs one model's batch on its own goroutine.
type worker struct {
	name    string // the model name (the metrics' model label)
	id      string // what responses report: "name@version", or "name" when unversioned
	ld      *engine.Loaded
	cfg     model.Config
	maxSeq  int // the served context: min(--max-seq-len, the model's)
	opts    *Options
	mm      *telemetry.ModelMetrics
	probe   *telemetry.HeadProbe
	budget  *budget
	log     *slog.Logger
	tracer  trace.Tracer
	version string // the model's version ("unversioned"), for spans and metrics

	// arena lends the running batch's forward passes their activations;
	// successive batches share it (they never run at once).
	arena *tensor.Arena

	captures *captureStore // nil: capture off
	capHeads []mapRef      // heads whose maps are captured
	nanCaps  []nanCapture  // NaN captures to make after the running step

	// drive is held by the goroutine that runs the model: the worker's
	// loop, or a handler running its own request inline (submit). Whoever
	// holds it owns r, the arena and the captures' pending work.
	drive sync.Mutex
	r     running // the running batch (drive held)

	mu sync.Mutex
	// active is set while the batch has live sequences or an attention
	// job runs (under mu).
	active bool
	queue  []*job // arrival order
	closed bool
	wake   chan struct{} // capacity 1: something changed in the queue
	done   chan struct{} // closed when loop returns
}

// submit queues j, or fails with 429 when the queue is full and 503 when
// the worker is closing. A quiet generation job that finds the model idle
// and nobody queued runs inline: submit itself drives the model until the
// job has its last event (runInline), which spares the two goroutine
// hand-offs handler → worker → handler (each a possible wake-up of another
// thread; measured alone the gain is within this VM's noise, see
// docs/performance.md). Everything else is left to the worker's loop.
func (w *worker) submit(j *job) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return newError(http.StatusServiceUnavailable, "shutting_down", "the server is shutting down")
	}
	if len(w.queue) >= w.opts.MaxQueue {
		w.mu.Unlock()
		e := newError(http.StatusTooManyRequests, "queue_full", "the queue of model %q is full (--max-queue %d); retry later", w.name, w.opts.MaxQueue)
		e.RetryAfter = 1
		return e
	}
	j.enqueued = time.Now()
	j.busy = w.active || len(w.queue) > 0
	w.queue = append(w.queue, j)
	w.mm.Queued.Set(float64(len(w.queue)))
	// drive.TryLock under mu: the loop takes mu while holding drive, never
	// the reverse while waiting, and TryLock does not wait.
	inline := !w.opts.NoInline && j.kind == kindGenerate && j.quiet && !j.busy && w.drive.TryLock()
	if !inline {
		w.poke()
	}
	w.mu.Unlock()
	if inline {
		w.runInline(j)
	}
	return nil
}

// runInline drives the model (drive held) until j has had its last event
// or nothing is left to run, then hands whatever else arrived meanwhile
// (sequences that joined j's batch, queued jobs) to the loop.
func (w *worker) runInline(j *job) {
	for !j.finished && w.admit(&w.r) == admitRun {
		if w.r.live() > 0 {
			w.step(&w.r)
		}
	}
	w.reshape(&w.r) // drop j's slot (all memory when it ran alone)
	w.mu.Lock()
	w.active = w.r.live() > 0 // else the next request would think the model busy and wait for company
	left := w.active || len(w.queue) > 0 || w.closed
	w.mu.Unlock()
	w.drive.Unlock()
	if left {
		w.poke()
	}
}

// poke wakes the loop without blocking.
func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close stops submissions; the loop finishes the queue and returns.
func (w *worker) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.poke()
}

// loop runs the model's work until closed and drained: between two steps
// of the running batch it admits queued requests (admit), then runs one
// step (step, batch.go) in which the new sequences prefill and the others
// decode one token.
func (w *worker) loop() {
	defer close(w.done)
	for {
		w.drive.Lock()
		st := w.admit(&w.r)
		for st == admitRun {
			if w.r.live() > 0 {
				w.step(&w.r)
			}
			st = w.admit(&w.r)
		}
		w.drive.Unlock()
		if st == admitClosed {
			return
		}
		<-w.wake // idle: wait for a job (or for an inline driver's leftovers)
	}
}

// What admit found.
type admitState int

const (
	admitRun    admitState = iota // there is work: step the batch (if it has live sequences) and admit again
	admitIdle                     // nothing running, nothing queued
	admitClosed                   // closed and drained
)

// admit runs queued attention jobs and moves queued generation jobs into
// the running batch r, between two of its steps. It returns at once while
// r has live sequences; when r is idle it waits for work (for company, up
// to --max-queue-wait after the oldest arrived, under load, as a static
// batch would) and for memory. It returns admitIdle when r is idle and the
// queue empty (the caller waits for a wake, without holding drive) and
// admitClosed when closed and drained.
func (w *worker) admit(r *running) admitState {
	for {
		w.reshape(r) // drop finished sequences' slots (all memory when idle)
		w.mu.Lock()
		w.dropCancelled()
		idle := r.live() == 0
		w.active = !idle
		if len(w.queue) == 0 {
			closed := w.closed
			w.mu.Unlock()
			if !idle {
				return admitRun
			}
			if closed {
				return admitClosed
			}
			return admitIdle
		}
		first := w.queue[0]
		if first.kind == kindAttention {
			// Attention jobs run alone, one between two steps of the batch.
			est := w.estimate([]*job{first})
			ok, freed := w.budget.tryReserve(est)
			if ok {
				w.queue = slices.Delete(w.queue, 0, 1)
				w.mm.Queued.Set(float64(len(w.queue)))
				w.active = true
				w.mu.Unlock()
				w.settleCPU(r) // the batch's time so far is its own
				w.runAttention(first)
				w.budget.release(est)
				r.marked = false // its CPU time is charged to it
				if !idle {
					return admitRun // one attention job per step: decoding goes on
				}
				continue
			}
			w.mu.Unlock()
			if !idle {
				return admitRun
			}
			w.waitMemory(freed)
			continue
		}
		if idle {
			wait := time.Until(first.enqueued.Add(w.opts.MaxQueueWait))
			// Wait for company only under load: a request that found the
			// model idle and the queue empty starts at once, so a lone
			// client pays no batching delay.
			if first.busy && !w.closed && wait > 0 && w.countGenerate() < w.opts.MaxBatch {
				w.mu.Unlock()
				t := time.NewTimer(wait)
				select {
				case <-w.wake:
				case <-t.C:
				}
				t.Stop()
				continue
			}
		}
		joiners, est, freed := w.pick(r)
		if joiners != nil {
			w.active = true
		}
		w.mu.Unlock()
		if joiners != nil {
			w.rebuild(r, joiners, est)
			return admitRun
		}
		if !idle {
			return admitRun
		}
		w.waitMemory(freed)
	}
}

// waitMemory waits for a release of memory (or a change in the queue;
// polling so that a cancelled oldest job is dropped).
func (w *worker) waitMemory(freed <-chan struct{}) {
	t := time.NewTimer(50 * time.Millisecond)
	select {
	case <-freed:
	case <-w.wake:
	case <-t.C:
	}
	t.Stop()
}

// dropCancelled removes jobs whose client is gone (mu held).
func (w *worker) dropCancelled() {
	q := w.queue[:0]
	for _, j := range w.queue {
		if j.ctx.Err() == nil {
			q = append(q, j)
		}
	}
	clear(w.queue[len(q):])
	w.queue = q
	w.mm.Queued.Set(float64(len(q)))
}

func (w *worker) countGenerate() int {
	n := 0
	for _, j := range w.queue {
		if j.kind == kindGenerate {
			n++
		}
	}
	return n
}

// pick chooses the generation jobs that join the running batch r at its
// next step (mu held): the oldest queued job, then those whose prompt
// lengths are closest to it, while the batch has fewer than --max-batch
// live sequences and the step's padded tokens (live sequences × longest
// new prompt) stay within --max-batch-tokens. First come, first served:
// if the oldest cannot join, nobody does. It reserves the memory of the
// batch's new layout (layoutBytes; the old one stays reserved until the
// copy is done), dropping the farthest jobs until it fits, and removes the
// joiners from the queue; if not even the oldest fits it returns the
// channel that closes at the next release.
func (w *worker) pick(r *running) ([]*job, int64, <-chan struct{}) {
	first := w.queue[0]
	live := r.live()
	if live >= w.opts.MaxBatch || (live+1)*len(first.prompt) > w.opts.MaxBatchTokens {
		return nil, 0, nil
	}
	batch := []*job{first}
	var cands []*job
	for _, j := range w.queue[1:] {
		if j.kind == kindGenerate {
			cands = append(cands, j)
		}
	}
	dist := func(j *job) int { return abs(len(j.prompt) - len(first.prompt)) }
	sort.SliceStable(cands, func(a, b int) bool { return dist(cands[a]) < dist(cands[b]) })
	room := w.budget.headroom()
	for _, c := range cands {
		if live+len(batch) == w.opts.MaxBatch {
			break
		}
		next := append(slices.Clip(batch), c)
		if (live+len(next))*maxPrompt(next) > w.opts.MaxBatchTokens || w.layoutBytes(r, next) > room {
			continue
		}
		batch = next
	}
	var freed <-chan struct{}
	for k := len(batch); k >= 1; k-- {
		est := w.layoutBytes(r, batch[:k])
		ok, ch := w.budget.tryReserve(est)
		if !ok {
			freed = ch
			continue
		}
		batch = batch[:k]
		taken := make(map[*job]bool, k)
		for _, j := range batch {
			taken[j] = true
		}
		q := w.queue[:0]
		for _, j := range w.queue {
			if !taken[j] {
				q = append(q, j)
			}
		}
		clear(w.queue[len(q):])
		w.queue = q
		w.mm.Queued.Set(float64(len(q)))
		return batch, est, nil
	}
	return nil, 0, freed
}

// estimate is the memory an attention job reserves.
func (w *worker) estimate(jobs []*job) int64 {
	return attentionBytes(w.cfg, len(jobs[0].prompt), len(jobs[0].maps))
}

// maxPrompt is the longest prompt of jobs.
func maxPrompt(jobs []*job) int {
	p := 0
	for _, j := range jobs {
		p = max(p, len(j.prompt))
	}
	return p
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
