package serve

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
	"go.opentelemetry.io/otel/trace"
)

// running is a model's running batch: one KV-cache slot per sequence, in
// the order of seqs. Sequences join between steps (rebuild) and leave
// when they finish; their slots are dropped at the next reshape.
type running struct {
	seqs []*sequence
	st   *model.State // (len(seqs) slots) nil while empty
	held int64        // memory reserved for the layout (layoutBytes)
	// cpu is the process CPU time when it was last read (valid with
	// marked), at cpuAt. CPU time from there on is split among the
	// sequences by their pending tokens when it is next read (settleCPU):
	// at a join, before a sequence finishes, and at least every
	// cpuReadEvery, so the worker's bookkeeping between steps is charged
	// too while a fast decoding step pays no getrusage of its own.
	cpu    float64
	cpuAt  time.Time
	marked bool
	// Per-step buffers.
	lens    []int  // (batch) real tokens of the step
	sampled []bool // (batch) head statistics recorded
	tokens  []int  // (batch, seq) right-padded
}

// sequence is one generation job in the running batch.
type sequence struct {
	j         *job
	sampler   *engine.Sampler
	prefilled bool      // its prompt is in the cache
	done      bool      // finished: its slot sits out until dropped
	count     int       // tokens generated
	next      int       // the token to feed at the next step
	last      time.Time // when its previous token went out
	cpu       float64   // CPU seconds charged to it so far
	decode    trace.Span
	maps      []capturedMap // captured prefill maps
	gen       []int         // generated tokens (for a NaN capture)
	pending   int           // tokens fed since the CPU time was last split
}

// cpuReadEvery bounds how long CPU time goes unread while a batch runs.
const cpuReadEvery = 5 * time.Millisecond

// live is the number of unfinished sequences.
func (r *running) live() int {
	n := 0
	for _, s := range r.seqs {
		if !s.done {
			n++
		}
	}
	return n
}

// layoutBytes is the memory of r's next layout: its live sequences plus
// joiners, each with a KV cache slot of the layout's capacity (room for
// the longest prompt + max tokens, for every live sequence's positions
// plus the joiners' padded prefill, and a spare row), plus the activations
// of a step of the longest new prompt, plus the joiners' captured maps.
func (w *worker) layoutBytes(r *running, joiners []*job) int64 {
	P := maxPrompt(joiners)
	capacity, B := layoutShape(r, joiners)
	est := KVBytes(w.cfg, B, capacity) + ActivationBytes(w.cfg, B, max(P, 1))
	for _, j := range joiners {
		if j.capture { // the explicit path's maps, (P, capacity) per head in float32 + float64
			est += int64(len(w.capHeads)) * int64(P) * int64(capacity) * (4 + 8)
		}
	}
	return est
}

// layoutShape is the positions per slot and the slots of r's next layout.
func layoutShape(r *running, joiners []*job) (capacity, slots int) {
	step := max(maxPrompt(joiners), 1)
	for i, s := range r.seqs {
		if s.done {
			continue
		}
		slots++
		capacity = max(capacity, len(s.j.prompt)+s.j.maxTokens, r.st.Caches[0].Lens[i]+step)
	}
	for _, j := range joiners {
		slots++
		capacity = max(capacity, len(j.prompt)+j.maxTokens)
	}
	// One spare row: a sequence sitting a step out still has a (masked) row
	// written.
	return capacity + 1, slots
}

// reshape drops the slots of finished sequences: with none live it
// releases the state and its memory; otherwise it compacts the live
// sequences into a new state if the memory for it is free (else the
// finished slots keep sitting out).
func (w *worker) reshape(r *running) {
	if r.live() == len(r.seqs) {
		return
	}
	if r.live() == 0 {
		w.budget.release(r.held)
		r.seqs, r.st, r.held, r.marked = nil, nil, 0, false
		if w.arena.Bytes() > keepArenaBytes {
			w.arena = new(tensor.Arena) // let a large prefill's buffers go
		}
		return
	}
	est := w.layoutBytes(r, nil)
	if ok, _ := w.budget.tryReserve(est); ok {
		w.rebuild(r, nil, est)
	}
}

// keepArenaBytes is the most activation memory a worker keeps between
// batches for the next one to reuse (beyond it the buffers are dropped
// when the model goes idle).
const keepArenaBytes = 16 << 20

// rebuild moves r's live sequences and the joiners into a new state whose
// memory, est, is already reserved, and releases the old reservation.
func (w *worker) rebuild(r *running, joiners []*job, est int64) {
	capacity, B := layoutShape(r, joiners)
	st := model.NewState(w.cfg, B, capacity, tensor.F32)
	st.Probe, st.Arena = w.probe, w.arena
	var seqs []*sequence
	var buf []float32
	for i, s := range r.seqs {
		if s.done {
			continue
		}
		to := len(seqs)
		for l, c := range r.st.Caches {
			d := st.Caches[l]
			n := c.Lens[i] * c.KVHeads * c.HeadDim
			buf = slices.Grow(buf[:0], n)[:n]
			c.K.Get(i*c.MaxSeq*c.KVHeads*c.HeadDim, buf)
			d.K.Set(to*d.MaxSeq*d.KVHeads*d.HeadDim, buf)
			c.V.Get(i*c.MaxSeq*c.KVHeads*c.HeadDim, buf)
			d.V.Set(to*d.MaxSeq*d.KVHeads*d.HeadDim, buf)
			d.Lens[to] = c.Lens[i]
		}
		seqs = append(seqs, s)
	}
	now := time.Now()
	for _, j := range joiners {
		s := &sequence{j: j, sampler: engine.NewSampler(j.sampling)}
		if !j.warm {
			w.mm.QueueWait.Observe(now.Sub(j.enqueued).Seconds())
			w.mm.PromptTokens.Add(float64(len(j.prompt)))
		}
		w.mm.Running.Inc()
		seqs = append(seqs, s)
	}
	w.budget.release(r.held)
	r.seqs, r.st, r.held = seqs, st, est
}

// step runs one forward pass of the running batch, as engine.GenerateBatch
// does but with sequences coming and going: sequences that joined prefill
// their prompts (right-padded, per-sequence lengths), the others decode
// their next token, finished ones sit out; the head probe is attached and
// each sequence is checked after the pass for cancellation and for
// NaN/Inf in its attention. Every job gets its tokens and exactly one last
// event.
func (w *worker) step(r *running) {
	B := len(r.seqs)
	st := r.st
	r.lens, r.sampled = resize(r.lens, B), resize(r.sampled, B)
	lens, sampled := r.lens, r.sampled // (batch)
	seq := 1
	var joiners []*job
	var joined []int // (joiner) slot
	for b, s := range r.seqs {
		sampled[b] = s.j.sampled
		switch {
		case s.done:
		case !s.prefilled:
			lens[b] = len(s.j.prompt)
			seq = max(seq, lens[b])
			joiners, joined = append(joiners, s.j), append(joined, b)
		default:
			lens[b] = 1
		}
	}
	r.tokens = resize(r.tokens, B*seq)
	tokens := r.tokens // (batch, seq) right-padded
	for b, s := range r.seqs {
		switch {
		case s.done:
		case !s.prefilled:
			copy(tokens[b*seq:], s.j.prompt)
		default:
			tokens[b*seq] = s.next
		}
	}
	live := r.live()
	start := time.Now()
	if joiners != nil {
		w.mm.BatchSize.Observe(float64(live))
		w.traceBatchStart(joiners, live, start)
	}
	finish := func(b int, ev event) {
		s := r.seqs[b]
		s.done = true
		w.mm.Running.Dec()
		j := s.j
		endDecode(s.decode, s.count, ev.err)
		if e, ok := ev.err.(*apiError); ok && e.Code == "nan_in_attention" && w.captures != nil && !j.warm {
			w.nanCaps = append(w.nanCaps, nanCapture{j: j, tokens: append(slices.Clip(j.prompt), s.gen...), bad: w.probe.NonFinite(b)})
		} else if s.maps != nil {
			w.captures.add(w.newCapture(j, reasonSampled, j.prompt, s.maps))
		}
		if !j.warm {
			if s.pending > 0 {
				w.settleCPU(r)
			}
			w.mm.SeqLen.Observe(float64(len(j.prompt) + s.count))
			w.chargeJob(s.cpu)
		}
		for _, c := range st.Caches { // the slot sits out from now on
			c.Lens[b] = 0
		}
		if j.quiet {
			ev.tokens = j.out
		}
		j.finished = true
		j.events <- ev
	}
	defer func() {
		// A panic in model code fails the running batch, not the server.
		if p := recover(); p != nil {
			w.log.Error("batch panicked", "model", w.name, "panic", fmt.Sprint(p))
			for b, s := range r.seqs {
				if !s.done {
					finish(b, event{err: newError(http.StatusInternalServerError, "internal_error", "internal error in model %q", w.name)})
				}
			}
		}
		if len(w.nanCaps) > 0 {
			w.runNaNCaptures(r.held / int64(B))
		}
	}()

	if w.captures != nil && joiners != nil {
		w.captureRequest(st, r.seqs, joined, seq)
	}
	w.probe.Begin(B, lens, sampled)
	if !r.marked {
		r.cpu, r.cpuAt, r.marked = processCPU(), time.Now(), true
	}
	logits, err := w.ld.Model.Forward(st, tokens, seq, lens, true) // (batch, vocab)
	st.Capture, st.OnMaps = nil, nil
	for b, s := range r.seqs {
		s.pending += lens[b]
	}
	if joiners != nil || time.Since(r.cpuAt) >= cpuReadEvery {
		w.settleCPU(r)
	}
	if joiners != nil {
		prefilled := time.Now()
		w.mm.Prefill.Observe(prefilled.Sub(start).Seconds())
		decode := make([]trace.Span, len(joiners))
		w.tracePrefill(joiners, live, start, prefilled, seq, decode)
		for i, b := range joined {
			r.seqs[b].decode = decode[i]
			r.seqs[b].prefilled = true
		}
	}
	if err != nil {
		w.log.ErrorContext(r.seqs[0].j.ctx, "forward failed", "model", w.name, "err", err)
		for b, s := range r.seqs {
			if !s.done {
				finish(b, event{err: newError(http.StatusInternalServerError, "internal_error", "model %q failed: %v", w.name, err)})
			}
		}
		return
	}
	V := w.cfg.VocabSize
	for b, s := range r.seqs {
		if s.done {
			continue
		}
		j := s.j
		if bad := w.probe.NonFinite(b); bad.Count > 0 {
			finish(b, event{err: nanError(w.name, bad.Count, bad.Layer, bad.Head)})
			continue
		}
		if err := j.ctx.Err(); err != nil {
			finish(b, event{err: err})
			continue
		}
		next := s.sampler.Next(logits[b*V : (b+1)*V])
		if slices.Contains(j.stop, next) {
			finish(b, event{finish: "stop"})
			continue
		}
		s.count++
		now := time.Now()
		if !j.warm {
			if s.count == 1 {
				w.mm.TimeToFirst.Observe(now.Sub(j.arrived).Seconds())
			} else {
				w.mm.TimePerToken.Observe(now.Sub(s.last).Seconds())
			}
			w.mm.GeneratedTokens.Inc()
		}
		s.last = now
		if w.captures != nil {
			s.gen = append(s.gen, next)
		}
		if j.quiet {
			j.out = append(j.out, next)
		} else {
			j.events <- event{token: next}
		}
		if s.count == j.maxTokens {
			finish(b, event{finish: "length"})
			continue
		}
		s.next = next
	}
}

// settleCPU reads the process CPU time and splits what passed since the
// last read among r's sequences by their pending tokens (warm-up
// sequences are not charged).
func (w *worker) settleCPU(r *running) {
	if !r.marked {
		return
	}
	cpu := processCPU()
	share(r.seqs, cpu-r.cpu)
	r.cpu, r.cpuAt = cpu, time.Now()
}

// share splits CPU seconds cpu among seqs by the tokens each fed since the
// last split (pending, which it resets); warm-up sequences are not charged.
func share(seqs []*sequence, cpu float64) {
	total := 0
	for _, s := range seqs {
		if !s.j.warm {
			total += s.pending
		}
	}
	for _, s := range seqs {
		if !s.j.warm && total > 0 && cpu > 0 {
			s.cpu += cpu * float64(s.pending) / float64(total)
		}
		s.pending = 0
	}
}

// resize returns x with length n and zero elements, reusing its array.
func resize[T any](x []T, n int) []T {
	x = slices.Grow(x[:0], n)[:n]
	clear(x)
	return x
}

// nanError is the 500 of a request whose attention produced NaN or Inf.
func nanError(model string, n int64, layer, head int) *apiError {
	return newError(http.StatusInternalServerError, "nan_in_attention",
		"model %q produced %d NaN/Inf attention values (first at layer %d, head %d); the request was stopped", model, n, layer, head)
}
