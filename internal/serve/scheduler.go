package serve

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// jobKind says what a job asks of the model.
type jobKind int

const (
	kindGenerate  jobKind = iota // prefill + decode, batched with others
	kindAttention                // one forward pass with statistics and maps, alone
)

// event is what the scheduler sends a generation job: one per token, then
// a last one with finish or err set.
type event struct {
	token  int
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

	// events has room for maxTokens+1 events, so the scheduler never
	// blocks on a slow client.
	events chan event

	maps   []mapRef         // kindAttention: heads whose maps to return
	result chan *attnResult // kindAttention: buffered 1
}

// worker runs one model's batches on its own goroutine.
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

	captures *captureStore // nil: capture off
	capHeads []mapRef      // heads whose maps are captured
	nanCaps  []nanCapture  // NaN captures to make after the running batch

	mu sync.Mutex
	// active is set while the loop runs a batch (under mu).
	active bool
	queue  []*job // arrival order
	closed bool
	wake   chan struct{} // capacity 1: something changed in the queue
	done   chan struct{} // closed when loop returns
}

// submit queues j, or fails with 429 when the queue is full and 503 when
// the worker is closing.
func (w *worker) submit(j *job) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return newError(http.StatusServiceUnavailable, "shutting_down", "the server is shutting down")
	}
	if len(w.queue) >= w.opts.MaxQueue {
		e := newError(http.StatusTooManyRequests, "queue_full", "the queue of model %q is full (--max-queue %d); retry later", w.name, w.opts.MaxQueue)
		e.RetryAfter = 1
		return e
	}
	j.enqueued = time.Now()
	j.busy = w.active || len(w.queue) > 0
	w.queue = append(w.queue, j)
	w.mm.Queued.Set(float64(len(w.queue)))
	w.poke()
	return nil
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

// loop runs batches until closed and drained.
func (w *worker) loop() {
	defer close(w.done)
	for {
		jobs, reserved := w.next()
		if jobs == nil {
			return
		}
		w.setActive(true)
		if jobs[0].kind == kindAttention {
			w.runAttention(jobs[0])
		} else {
			w.runGenerate(jobs)
			w.runNaNCaptures(reserved)
		}
		w.setActive(false)
		w.budget.release(reserved)
	}
}

func (w *worker) setActive(a bool) {
	w.mu.Lock()
	w.active = a
	w.mu.Unlock()
}

// next waits for the next batch: it returns as soon as max-batch
// generation jobs are queued, when the oldest has waited max-queue-wait,
// or at once for an attention job or while closing; and only once the
// batch's memory estimate is reserved. It returns nil when closed and empty.
func (w *worker) next() ([]*job, int64) {
	for {
		w.mu.Lock()
		w.dropCancelled()
		if len(w.queue) == 0 {
			closed := w.closed
			w.mu.Unlock()
			if closed {
				return nil, 0
			}
			<-w.wake
			continue
		}
		first := w.queue[0]
		wait := time.Until(first.enqueued.Add(w.opts.MaxQueueWait))
		// Wait for company only under load: a request that found the model
		// idle and the queue empty starts at once, so a lone client pays no
		// batching delay.
		if first.kind == kindGenerate && first.busy && !w.closed && wait > 0 && w.countGenerate() < w.opts.MaxBatch {
			w.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-w.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		jobs, est, freed := w.pick()
		w.mu.Unlock()
		if jobs != nil {
			return jobs, est
		}
		// Other models' batches hold the memory: wait for a release (or a
		// change in the queue; poll so a cancelled oldest job is dropped).
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-freed:
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
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

// pick forms the next batch from the queue (mu held): the oldest job, then
// the generation jobs whose prompt lengths are closest to it, up to
// --max-batch jobs and --max-batch-tokens padded prefill tokens. It
// reserves the batch's memory estimate, dropping the farthest jobs until
// it fits; if not even the oldest fits it returns the channel that closes
// at the next release.
func (w *worker) pick() ([]*job, int64, <-chan struct{}) {
	first := w.queue[0]
	batch := []*job{first}
	if first.kind == kindGenerate {
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
			if len(batch) == w.opts.MaxBatch {
				break
			}
			p, capacity := batchShape(append(batch, c))
			if (len(batch)+1)*p > w.opts.MaxBatchTokens || BatchBytes(w.cfg, len(batch)+1, capacity, p) > room {
				continue
			}
			batch = append(batch, c)
		}
	}
	var freed <-chan struct{}
	for k := len(batch); k >= 1; k-- {
		est := w.estimate(batch[:k])
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

// estimate is the memory a batch reserves.
func (w *worker) estimate(jobs []*job) int64 {
	if jobs[0].kind == kindAttention {
		return attentionBytes(w.cfg, len(jobs[0].prompt), len(jobs[0].maps))
	}
	p, capacity := batchShape(jobs)
	est := BatchBytes(w.cfg, len(jobs), capacity, p)
	for _, j := range jobs {
		if j.capture { // the explicit path's maps, (P, P) per head in float32 + float64
			est += int64(len(w.capHeads)) * int64(p) * int64(p) * (4 + 8)
		}
	}
	return est
}

// batchShape is the longest prompt and the longest prompt + max tokens.
func batchShape(jobs []*job) (prefill, capacity int) {
	for _, j := range jobs {
		prefill = max(prefill, len(j.prompt))
		capacity = max(capacity, len(j.prompt)+j.maxTokens)
	}
	return prefill, capacity
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
