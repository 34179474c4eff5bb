package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/telemetry"
	"github.com/headlight/headlight/internal/tensor"
)

// mapRef names one head whose attention map is wanted.
type mapRef struct {
	Layer int `json:"layer"`
	Head  int `json:"head"`
}

// attentionRequest is the body of POST /v1/attention.
type attentionRequest struct {
	Model string   `json:"model"`
	Text  *string  `json:"text"`
	Maps  []mapRef `json:"maps"`
	User  string   `json:"user"` // the canary routing key
}

// tokenInfo is one token of the text: its id, vocabulary piece and byte
// span [start, end) in the text (BOS has an empty span).
type tokenInfo struct {
	ID    int    `json:"id"`
	Piece string `json:"piece"`
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// headStat summarises one head over the text's queries.
type headStat struct {
	Entropy    float64 `json:"entropy"`     // mean over queries, nats
	MaxWeight  float64 `json:"max_weight"`  // mean over queries
	OutputNorm float64 `json:"output_norm"` // L2 norm of the head's output over all queries
}

// headMap is the attention map of one head: weights[i][j] is how much
// query i attends to key j (rows sum to 1).
type headMap struct {
	Layer   int         `json:"layer"`
	Head    int         `json:"head"`
	Weights [][]float32 `json:"weights"`
}

// attnResult is what the worker returns for an attention job.
type attnResult struct {
	stats [][]headStat // (layer, head)
	maps  []headMap
	err   error
}

// attentionBytes is the memory estimate of an attention job: a forward
// pass over n tokens, its cache, and the maps (seq × seq each, with the
// explicit path's float64 scratch).
func attentionBytes(c model.Config, n, maps int) int64 {
	return BatchBytes(c, 1, n, n) + int64(maps)*int64(n)*int64(n)*(4+8)
}

func (s *Server) handleAttention(w http.ResponseWriter, r *http.Request) {
	rec := recorderOf(w)
	var req attentionRequest
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
	if req.Text == nil {
		writeError(w, badParam("text", "text is required"))
		return
	}
	cfg := wk.cfg
	if len(req.Maps) > cfg.Layers*cfg.Heads {
		writeError(w, badParam("maps", "%d maps asked; the model has %d heads", len(req.Maps), cfg.Layers*cfg.Heads))
		return
	}
	for _, m := range req.Maps {
		if m.Layer < 0 || m.Layer >= cfg.Layers || m.Head < 0 || m.Head >= cfg.Heads {
			writeError(w, badParam("maps", "map (layer %d, head %d) does not exist: layers 0…%d, heads 0…%d", m.Layer, m.Head, cfg.Layers-1, cfg.Heads-1))
			return
		}
	}
	_, tsp := s.tracer.Start(r.Context(), "tokenize")
	toks := wk.ld.Tokenizer.EncodeOffsets(*req.Text, true, false)
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = t.ID
	}
	tsp.SetAttributes(attrPromptTokens.Int(len(ids)))
	tsp.End()
	rec.ptoks = len(ids)
	if err := s.admit(wk, ids, 0, len(req.Maps)); err != nil {
		writeError(w, err)
		return
	}
	j := &job{ctx: r.Context(), kind: kindAttention, prompt: ids, maps: req.Maps, sampled: s.sample(),
		arrived: time.Now(), result: make(chan *attnResult, 1)}
	if err := wk.submit(j); err != nil {
		s.reject(wk, err)
		writeError(w, err)
		return
	}
	var res *attnResult
	select {
	case res = <-j.result:
	case <-r.Context().Done():
		return // the client is gone: nobody to answer
	}
	if res.err != nil {
		writeError(w, res.err)
		return
	}
	out := struct {
		Object string         `json:"object"`
		Model  string         `json:"model"`
		Tokens []tokenInfo    `json:"tokens"`
		Layers int            `json:"layers"`
		Heads  int            `json:"heads"`
		Stats  [][]headStat   `json:"stats"`
		Maps   []headMap      `json:"maps"`
		Usage  map[string]int `json:"usage"`
	}{Object: "attention", Model: wk.id, Layers: cfg.Layers, Heads: cfg.Heads, Stats: res.stats, Maps: res.maps,
		Usage: map[string]int{"prompt_tokens": len(ids), "total_tokens": len(ids)}}
	for _, t := range toks {
		out.Tokens = append(out.Tokens, tokenInfo{ID: t.ID, Piece: wk.ld.Tokenizer.TokenText(t.ID),
			Text: (*req.Text)[t.Start:t.End], Start: t.Start, End: t.End})
	}
	if out.Maps == nil {
		out.Maps = []headMap{}
	}
	writeJSON(w, http.StatusOK, out)
}

// runAttention is the worker side of an attention job: one forward pass
// over the text with the probe teed into a per-head summary and the asked
// maps captured.
func (w *worker) runAttention(j *job) {
	res := &attnResult{}
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("attention panicked", "model", w.name, "panic", fmt.Sprint(r))
			res = &attnResult{err: newError(http.StatusInternalServerError, "internal_error", "internal error in model %q", w.name)}
		}
		j.result <- res
	}()
	if j.ctx.Err() != nil {
		res.err = j.ctx.Err()
		return
	}
	start := time.Now()
	if !j.warm {
		w.mm.QueueWait.Observe(start.Sub(j.enqueued).Seconds())
		w.mm.PromptTokens.Add(float64(len(j.prompt)))
	}
	w.mm.Running.Inc()
	defer w.mm.Running.Dec()
	n := len(j.prompt)
	st := model.NewState(w.cfg, 1, n, tensor.F32)
	sum := &summary{stats: make([][]headStat, w.cfg.Layers)}
	st.Probe = telemetry.Tee{w.probe, sum}
	want := make([][]attention.HeadRef, w.cfg.Layers) // (layer) heads asked
	for _, m := range j.maps {
		want[m.Layer] = append(want[m.Layer], attention.HeadRef{Head: m.Head})
	}
	got := map[mapRef][]float32{}
	if len(j.maps) > 0 {
		st.Capture = func(l int) []attention.HeadRef { return want[l] }
		st.OnMaps = func(l int, heads []attention.HeadRef, maps [][]float32) {
			for i, h := range heads {
				got[mapRef{l, h.Head}] = maps[i]
			}
		}
	}
	w.traceBatchStart([]*job{j}, 1, start)
	w.probe.Begin(1, nil, []bool{j.sampled})
	cpu0 := processCPU()
	_, err := w.ld.Model.Forward(st, j.prompt, n, nil, true)
	w.charge([]*job{j}, []int{n}, processCPU()-cpu0)
	if err != nil {
		res.err = newError(http.StatusInternalServerError, "internal_error", "model %q failed: %v", w.name, err)
		return
	}
	prefilled := time.Now()
	w.mm.Prefill.Observe(prefilled.Sub(start).Seconds())
	w.tracePrefill([]*job{j}, 1, start, prefilled, n, nil)
	if bad := w.probe.NonFinite(0); bad.Count > 0 {
		res.err = nanError(w.name, bad.Count, bad.Layer, bad.Head)
		return
	}
	res.stats = sum.stats
	for _, m := range j.maps {
		flat := got[m]
		rows := make([][]float32, n)
		for i := range rows {
			rows[i] = flat[i*n : (i+1)*n]
		}
		res.maps = append(res.maps, headMap{Layer: m.Layer, Head: m.Head, Weights: rows})
	}
}

// summary is an attention.Probe that keeps, per layer × head, the mean
// entropy and max weight over the queries and the output norm (batch 1).
type summary struct{ stats [][]headStat }

func (s *summary) ObserveAttention(layer int, st *attention.Stats) {
	hs := make([]headStat, st.Heads)
	for h := range hs {
		for i := 0; i < st.SeqQ; i++ {
			hs[h].Entropy += float64(st.Entropy[h*st.SeqQ+i]) / float64(st.SeqQ)
			hs[h].MaxWeight += float64(st.MaxWeight[h*st.SeqQ+i]) / float64(st.SeqQ)
		}
		hs[h].OutputNorm = float64(st.OutNorm[h])
	}
	if layer >= 0 && layer < len(s.stats) {
		s.stats[layer] = hs
	}
}

// decodeJSON reads a JSON body into v (400 on malformed JSON or a wrong
// field type, 413 on an oversized body).
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return newError(http.StatusRequestEntityTooLarge, "body_too_large", "request body over %d bytes", maxBody)
		}
		return newError(http.StatusBadRequest, "invalid_json", "invalid JSON body: %v", err)
	}
	return nil
}
