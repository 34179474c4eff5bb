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

// runGenerate runs a batch of generation jobs to completion, as
// engine.GenerateBatch does (right-padded prefill with per-sequence
// lengths, then one decode step per token with finished sequences sitting
// out), with the head probe attached and each job checked between steps
// for cancellation and for NaN/Inf in its attention. Every job gets its
// tokens and exactly one last event.
func (w *worker) runGenerate(jobs []*job) {
	B := len(jobs)
	P, capacity := batchShape(jobs)
	start := time.Now()
	w.mm.BatchSize.Observe(float64(B))
	w.mm.Running.Add(float64(B))

	done := make([]bool, B)
	count := make([]int, B)      // tokens generated per job
	last := make([]time.Time, B) // when each job's previous token went out
	sampled := make([]bool, B)   // (batch) head statistics recorded
	lens := make([]int, B)       // (batch) real tokens of this call
	tokens := make([]int, B*P)   // (batch, P) right-padded prompts
	samplers := make([]*engine.Sampler, B)
	decode := make([]trace.Span, B) // (batch) decode spans; nil: not traced
	var maps [][]capturedMap        // (batch) captured prefill maps
	var gen [][]int                 // (batch) generated tokens, for NaN captures
	if w.captures != nil {
		maps, gen = make([][]capturedMap, B), make([][]int, B)
	}
	active := B
	finish := func(b int, ev event) {
		done[b] = true
		active--
		w.mm.Running.Dec()
		j := jobs[b]
		endDecode(decode[b], count[b], ev.err)
		if e, ok := ev.err.(*apiError); ok && e.Code == "nan_in_attention" && w.captures != nil && !j.warm {
			w.nanCaps = append(w.nanCaps, nanCapture{j: j, tokens: append(slices.Clip(j.prompt), gen[b]...), bad: w.probe.NonFinite(b)})
		} else if maps != nil && maps[b] != nil {
			w.captures.add(w.newCapture(j, reasonSampled, j.prompt, maps[b]))
		}
		if !j.warm {
			w.mm.SeqLen.Observe(float64(len(j.prompt) + count[b]))
		}
		j.events <- ev
	}
	defer func() {
		// A panic in model code fails this batch, not the server.
		if r := recover(); r != nil {
			w.log.Error("batch panicked", "model", w.name, "panic", fmt.Sprint(r))
			for b := range jobs {
				if !done[b] {
					finish(b, event{err: newError(http.StatusInternalServerError, "internal_error", "internal error in model %q", w.name)})
				}
			}
		}
	}()

	for b, j := range jobs {
		samplers[b] = engine.NewSampler(j.sampling)
		copy(tokens[b*P:], j.prompt)
		lens[b] = len(j.prompt)
		sampled[b] = j.sampled
		if !j.warm {
			w.mm.QueueWait.Observe(start.Sub(j.enqueued).Seconds())
			w.mm.PromptTokens.Add(float64(len(j.prompt)))
		}
	}
	// One spare row: a finished sequence still has a (masked) row written
	// while the others decode.
	st := model.NewState(w.cfg, B, capacity+1, tensor.F32)
	st.Probe = w.probe
	w.traceBatchStart(jobs, start)
	if w.captures != nil {
		w.captureRequest(st, jobs, P, maps)
	}
	w.probe.Begin(B, lens, sampled)
	cpu0 := processCPU()
	defer func() { // before the recover above: also a failed batch's CPU is charged
		processed := make([]int, B) // (batch) prompt + generated tokens
		for b, j := range jobs {
			processed[b] = len(j.prompt) + count[b]
		}
		w.charge(jobs, processed, processCPU()-cpu0)
	}()
	logits, err := w.ld.Model.Forward(st, tokens, P, lens, true) // (batch, vocab)
	st.Capture, st.OnMaps = nil, nil
	prefilled := time.Now()
	w.mm.Prefill.Observe(prefilled.Sub(start).Seconds())
	w.tracePrefill(jobs, start, prefilled, P, decode)
	V := w.cfg.VocabSize
	step := make([]int, B) // (batch) the next token of each sequence
	for {
		if err != nil {
			w.log.ErrorContext(jobs[0].ctx, "forward failed", "model", w.name, "err", err)
			for b := range jobs {
				if !done[b] {
					finish(b, event{err: newError(http.StatusInternalServerError, "internal_error", "model %q failed: %v", w.name, err)})
				}
			}
			return
		}
		for b, j := range jobs {
			if done[b] {
				lens[b] = 0
				continue
			}
			lens[b] = 0
			if bad := w.probe.NonFinite(b); bad.Count > 0 {
				finish(b, event{err: nanError(w.name, bad.Count, bad.Layer, bad.Head)})
				continue
			}
			if err := j.ctx.Err(); err != nil {
				finish(b, event{err: err})
				continue
			}
			next := samplers[b].Next(logits[b*V : (b+1)*V])
			if slices.Contains(j.stop, next) {
				finish(b, event{finish: "stop"})
				continue
			}
			count[b]++
			now := time.Now()
			if !j.warm {
				if count[b] == 1 {
					w.mm.TimeToFirst.Observe(now.Sub(j.arrived).Seconds())
				} else {
					w.mm.TimePerToken.Observe(now.Sub(last[b]).Seconds())
				}
				w.mm.GeneratedTokens.Inc()
			}
			last[b] = now
			if gen != nil {
				gen[b] = append(gen[b], next)
			}
			j.events <- event{token: next}
			if count[b] == j.maxTokens {
				finish(b, event{finish: "length"})
				continue
			}
			step[b], lens[b] = next, 1
		}
		if active == 0 {
			return
		}
		w.probe.Begin(B, lens, sampled)
		logits, err = w.ld.Model.Forward(st, step, 1, lens, true)
	}
}

// nanError is the 500 of a request whose attention produced NaN or Inf.
func nanError(model string, n int64, layer, head int) *apiError {
	return newError(http.StatusInternalServerError, "nan_in_attention",
		"model %q produced %d NaN/Inf attention values (first at layer %d, head %d); the request was stopped", model, n, layer, head)
}
