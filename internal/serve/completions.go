package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// completionRequest is the body of POST /v1/completions (OpenAI's legacy
// completions; top_k is an extension). Fields OpenAI has and Headlight
// does not support are refused when set to anything but their default.
type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"` // a string or an array of one string
	MaxTokens     *int            `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	Seed          *int64          `json:"seed"`
	Stop          json.RawMessage `json:"stop"` // a string or up to 4 strings
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N    *int   `json:"n"`
	Echo bool   `json:"echo"`
	User string `json:"user"` // the canary routing key
}

// defaultMaxTokens is OpenAI's default for max_tokens.
const defaultMaxTokens = 16

// params checks the request's parameters.
func (q *completionRequest) params() (prompt string, stops []string, sm engine.Sampling, err error) {
	if len(q.Prompt) > 0 && string(q.Prompt) != "null" {
		var one []string
		if json.Unmarshal(q.Prompt, &prompt) != nil {
			if json.Unmarshal(q.Prompt, &one) != nil || len(one) != 1 {
				return "", nil, sm, badParam("prompt", "prompt must be a string (or an array of exactly one string)")
			}
			prompt = one[0]
		}
	}
	if len(q.Stop) > 0 && string(q.Stop) != "null" {
		var one string
		if json.Unmarshal(q.Stop, &one) == nil {
			stops = []string{one}
		} else if json.Unmarshal(q.Stop, &stops) != nil || len(stops) > 4 {
			return "", nil, sm, badParam("stop", "stop must be a string or an array of up to 4 strings")
		}
		for _, s := range stops {
			if s == "" {
				return "", nil, sm, badParam("stop", "stop strings must not be empty")
			}
		}
	}
	if q.N != nil && *q.N != 1 {
		return "", nil, sm, badParam("n", "n must be 1")
	}
	if q.Echo {
		return "", nil, sm, badParam("echo", "echo is not supported")
	}
	sm.Temperature, sm.TopP = 1, 1
	if q.Temperature != nil {
		if t := *q.Temperature; !(t >= 0 && t <= 2) {
			return "", nil, sm, badParam("temperature", "temperature %v must be in [0, 2]", t)
		}
		sm.Temperature = float32(*q.Temperature)
	}
	if q.TopP != nil {
		if p := *q.TopP; !(p > 0 && p <= 1) {
			return "", nil, sm, badParam("top_p", "top_p %v must be in (0, 1]", p)
		}
		sm.TopP = float32(*q.TopP)
	}
	if q.TopK != nil {
		if *q.TopK < 0 {
			return "", nil, sm, badParam("top_k", "top_k %d must be ≥ 0 (0 = off)", *q.TopK)
		}
		sm.TopK = *q.TopK
	}
	if q.Seed != nil {
		sm.Seed = uint64(*q.Seed)
	} else {
		sm.Seed = rand.Uint64()
	}
	return prompt, stops, sm, nil
}

// admit checks a request of prompt ids and maxTokens new tokens (maps
// attention maps) against the limits, counting refusals by reason.
func (s *Server) admit(w *worker, ids []int, maxTokens, maps int) error {
	n := len(ids)
	var e *apiError
	reason := ""
	switch {
	case n > w.maxSeq:
		reason = telemetry.ReasonMaxSeqLen
		e = newError(http.StatusRequestEntityTooLarge, "max_seq_len", "the prompt is %d tokens; the max sequence length of model %q is %d (--max-seq-len and the model's context)", n, w.name, w.maxSeq)
	case maxTokens > s.opts.MaxTokensCap:
		reason = telemetry.ReasonMaxTokensCap
		e = newError(http.StatusUnprocessableEntity, "max_tokens_cap", "max_tokens %d is over the cap of %d (--max-tokens-cap)", maxTokens, s.opts.MaxTokensCap)
	case n+maxTokens > w.maxSeq:
		reason = telemetry.ReasonContext
		e = newError(http.StatusUnprocessableEntity, "context_length_exceeded", "%d prompt tokens + max_tokens %d = %d is over the max sequence length %d of model %q", n, maxTokens, n+maxTokens, w.maxSeq, w.name)
	case n > s.opts.MaxBatchTokens:
		reason = telemetry.ReasonMaxBatchTokens
		e = newError(http.StatusRequestEntityTooLarge, "max_batch_tokens", "the prompt is %d tokens; a batch holds at most %d (--max-batch-tokens)", n, s.opts.MaxBatchTokens)
	default:
		est := BatchBytes(w.cfg, 1, n+maxTokens, n)
		if maps > 0 || maxTokens == 0 {
			est = attentionBytes(w.cfg, n, maps)
		}
		if room := s.budget.headroom(); est > room {
			reason = telemetry.ReasonMemoryBudget
			e = newError(http.StatusRequestEntityTooLarge, "memory_budget", "the request needs about %d bytes (KV cache + activations), over the %d left of --memory-budget %d after the weights", est, room, s.opts.MemoryBudget)
		}
	}
	if e == nil {
		return nil
	}
	s.metrics.Rejections.WithLabelValues(w.name, w.version, reason).Inc()
	return e
}

// reject counts a refused submission (queue full) and passes err on.
func (s *Server) reject(w *worker, err error) {
	if e, ok := err.(*apiError); ok && e.Code == "queue_full" {
		s.metrics.Rejections.WithLabelValues(w.name, w.version, telemetry.ReasonQueueFull).Inc()
	}
}

// completion is a text_completion object, whole or one streamed chunk.
type completion struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	Model   string         `json:"model"`
	Choices []choice       `json:"choices"`
	Usage   map[string]int `json:"usage,omitempty"`
}

type choice struct {
	Text         string  `json:"text"`
	Index        int     `json:"index"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

func usage(prompt, completion int) map[string]int {
	return map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	rec := recorderOf(w)
	arrived := time.Now()
	var req completionRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	wk, err := s.worker(req.Model, requestKey(r, req.User))
	if err != nil {
		writeError(w, err)
		return
	}
	rec.model, rec.version = wk.name, wk.version
	prompt, stops, sm, err := req.params()
	if err != nil {
		writeError(w, err)
		return
	}
	tok := wk.ld.Tokenizer
	_, tsp := s.tracer.Start(r.Context(), "tokenize")
	ids := tok.Encode(prompt, true, false)
	tsp.SetAttributes(attrPromptTokens.Int(len(ids)))
	tsp.End()
	rec.ptoks = len(ids)
	maxTokens := min(defaultMaxTokens, max(wk.maxSeq-len(ids), 1))
	if req.MaxTokens != nil {
		if maxTokens = *req.MaxTokens; maxTokens < 1 {
			writeError(w, badParam("max_tokens", "max_tokens %d must be ≥ 1", maxTokens))
			return
		}
	}
	if err := s.admit(wk, ids, maxTokens, 0); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // also stops the job when the handler returns early
	j := &job{ctx: ctx, kind: kindGenerate, prompt: ids, maxTokens: maxTokens, stop: []int{tok.BOS(), tok.EOS()},
		sampling: sm, sampled: s.sample(), capture: s.captureSample(), arrived: arrived}
	if j.quiet = !req.Stream && len(stops) == 0; j.quiet {
		j.events, j.out = make(chan event, 1), make([]int, 0, maxTokens)
	} else {
		j.events = make(chan event, maxTokens+1)
	}
	if err := wk.submit(j); err != nil {
		s.reject(wk, err)
		writeError(w, err)
		return
	}
	id := fmt.Sprintf("cmpl-%016x%08x", rand.Uint64(), rand.Uint32())
	base := completion{ID: id, Object: "text_completion", Created: arrived.Unix(), Model: wk.id}
	if req.Stream {
		s.stream(rec, r, cancel, wk, j, base, stops, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	var text []byte
	finish, n, err := relay(ctx, cancel, wk, j, stops, func(t string) error { text = append(text, t...); return nil })
	rec.ctoks = n
	if err != nil {
		if ctx.Err() != nil && r.Context().Err() != nil {
			rec.aborted = true
			return
		}
		writeError(w, err)
		return
	}
	base.Choices = []choice{{Text: string(text), FinishReason: &finish}}
	base.Usage = usage(len(ids), n)
	writeJSON(w, http.StatusOK, base)
}

// stream answers with server-sent events: one text_completion chunk per
// piece of text, a last chunk with the finish reason (and, if asked, a
// chunk with the usage), then "data: [DONE]". The status is sent with the
// first chunk, so a failure before any text (a NaN in prefill) still gets
// its own status and JSON error.
func (s *Server) stream(rec *recorder, r *http.Request, cancel context.CancelFunc, wk *worker, j *job, base completion, stops []string, includeUsage bool) {
	started := false
	start := func() {
		if !started {
			started = true
			h := rec.Header()
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Accel-Buffering", "no")
			rec.WriteHeader(http.StatusOK)
		}
	}
	send := func(v any) error {
		start()
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(rec, "data: %s\n\n", b); err != nil {
			return err
		}
		rec.Flush()
		return nil
	}
	chunk := func(text string, finish *string) completion {
		c := base
		c.Choices = []choice{{Text: text, FinishReason: finish}}
		return c
	}
	finish, n, err := relay(j.ctx, cancel, wk, j, stops, func(t string) error { return send(chunk(t, nil)) })
	rec.ctoks = n
	if err != nil {
		if r.Context().Err() != nil {
			rec.aborted = true
			return
		}
		if !started {
			writeError(rec, err)
			return
		}
		_ = send(map[string]*apiError{"error": asAPIError(err)})
		return
	}
	if send(chunk("", &finish)) != nil {
		rec.aborted = true
		return
	}
	if includeUsage {
		c := base
		c.Choices = []choice{}
		c.Usage = usage(len(j.prompt), n)
		_ = send(c)
	}
	if _, err := fmt.Fprint(rec, "data: [DONE]\n\n"); err != nil {
		rec.aborted = true
	}
	rec.Flush()
}

// relay reads job j's events until its end, turning tokens into text with
// the stop strings applied, and passes each non-empty piece of text to
// emit. It returns the finish reason ("stop" or "length"), the number of
// tokens generated, and the error that ended the job (emit's error, the
// scheduler's, or ctx's when the client went away).
func relay(ctx context.Context, cancel context.CancelFunc, wk *worker, j *job, stops []string, emit func(string) error) (string, int, error) {
	st := &stopper{stops: stops}
	prev := j.prompt[len(j.prompt)-1]
	n := 0
	// The detokenize span runs from the first event to the last: text is
	// made while the model decodes.
	var dsp trace.Span
	defer func() {
		if dsp != nil {
			dsp.SetAttributes(attrCompletionTokens.Int(n))
			dsp.End()
		}
	}()
	for {
		var ev event
		select {
		case ev = <-j.events:
		case <-ctx.Done():
			return "", n, ctx.Err()
		}
		if dsp == nil {
			_, dsp = wk.tracer.Start(ctx, "detokenize")
		}
		if ev.err != nil {
			return "", n + len(ev.tokens), ev.err
		}
		text, hit := "", false
		if ev.tokens != nil { // a quiet job's tokens (no stop strings)
			var b strings.Builder
			for _, t := range ev.tokens {
				b.WriteString(wk.ld.Piece(prev, t))
				prev = t
			}
			n += len(ev.tokens)
			text = b.String()
		}
		if ev.finish != "" {
			text += st.flush()
		} else {
			n++
			text, hit = st.add(wk.ld.Piece(prev, ev.token))
			prev = ev.token
		}
		if text != "" {
			if err := emit(text); err != nil {
				return "", n, err
			}
		}
		switch {
		case hit:
			cancel() // the scheduler drops the sequence at its next step
			return "stop", n, nil
		case ev.finish != "":
			return ev.finish, n, nil
		}
	}
}
