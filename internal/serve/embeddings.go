package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// maxEmbedInputs is the most texts one /v1/embeddings request may hold
// (OpenAI's limit).
const maxEmbedInputs = 2048

// embedder serves one encoder model; its requests run one at a time.
type embedder struct {
	name string
	em   *engine.Embedder
	cfg  model.Config
	mm   *telemetry.ModelMetrics
	turn chan struct{} // capacity 1: held while a request runs
}

// encoderWeightBytes is the memory of an encoder's weights: every float32
// slice of the model and its layers.
func encoderWeightBytes(em *engine.Embedder) int64 {
	var n int64
	var add func(v reflect.Value)
	add = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			switch {
			case !v.Type().Field(i).IsExported():
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Float32:
				n += int64(f.Len()) * 4
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
				for j := range f.Len() {
					add(f.Index(j))
				}
			}
		}
	}
	add(reflect.ValueOf(em.Model).Elem())
	return n
}

// embeddingRequest is the body of POST /v1/embeddings (OpenAI's shape).
type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"` // a string or an array of strings
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

func (q *embeddingRequest) texts() ([]string, error) {
	var one string
	var many []string
	switch {
	case len(q.Input) == 0 || string(q.Input) == "null":
		return nil, badParam("input", "input is required")
	case json.Unmarshal(q.Input, &one) == nil:
		many = []string{one}
	case json.Unmarshal(q.Input, &many) != nil:
		return nil, badParam("input", "input must be a string or an array of strings (token arrays are not supported)")
	}
	if len(many) == 0 || len(many) > maxEmbedInputs {
		return nil, badParam("input", "input holds %d texts; 1 to %d are accepted", len(many), maxEmbedInputs)
	}
	for i, s := range many {
		if s == "" {
			return nil, badParam("input", "input %d is empty", i)
		}
	}
	if q.EncodingFormat != "" && q.EncodingFormat != "float" {
		return nil, badParam("encoding_format", "encoding_format %q is not supported (float)", q.EncodingFormat)
	}
	if q.Dimensions != nil {
		return nil, badParam("dimensions", "dimensions is not supported")
	}
	return many, nil
}

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	rec := recorderOf(w)
	var req embeddingRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	e, err := s.embedder(req.Model)
	if err != nil {
		writeError(w, err)
		return
	}
	rec.model, rec.version = e.name, s.modelVersion(e.name)
	texts, err := req.texts()
	if err != nil {
		writeError(w, err)
		return
	}
	_, tsp := s.tracer.Start(r.Context(), "tokenize")
	longest, total := 0, 0
	for _, t := range texts {
		n := min(len(e.em.Tokenizer.Encode(t, true, true)), e.cfg.MaxSeq)
		longest, total = max(longest, n), total+n
	}
	tsp.SetAttributes(attrPromptTokens.Int(total), attrInputs.Int(len(texts)))
	tsp.End()
	rec.ptoks = total
	// Texts are encoded in batches of up to 32 of similar length.
	est := ActivationBytes(e.cfg, min(len(texts), 32), longest) + int64(len(texts)*e.cfg.Dim*4)
	if room := s.budget.headroom(); est > room {
		s.metrics.Rejections.WithLabelValues(e.name, s.modelVersion(e.name), telemetry.ReasonMemoryBudget).Inc()
		writeError(w, newError(http.StatusRequestEntityTooLarge, "memory_budget", "the request needs about %d bytes of activations, over the %d left of --memory-budget %d after the weights", est, room, s.opts.MemoryBudget))
		return
	}
	arrived := time.Now()
	_, qsp := s.tracer.Start(r.Context(), "queue")
	release, err := e.acquire(r.Context(), s.budget, est)
	qsp.End()
	if err != nil {
		rec.aborted = true
		return
	}
	start := time.Now()
	e.mm.QueueWait.Observe(start.Sub(arrived).Seconds())
	_, esp := s.tracer.Start(r.Context(), "prefill", trace.WithAttributes(attrModel.String(e.name), attrModelVersion.String(s.modelVersion(e.name)),
		attrPromptTokens.Int(total), attrBatchSize.Int(len(texts))))
	vecs, err := engine.Embed(e.em.Model, e.em.Tokenizer, texts, true)
	esp.End()
	release()
	e.mm.Prefill.Observe(time.Since(start).Seconds())
	if err != nil {
		writeError(w, newError(http.StatusInternalServerError, "internal_error", "model %q failed: %v", e.name, err))
		return
	}
	e.mm.PromptTokens.Add(float64(total))
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	out := struct {
		Object string         `json:"object"`
		Data   []item         `json:"data"`
		Model  string         `json:"model"`
		Usage  map[string]int `json:"usage"`
	}{Object: "list", Model: e.name, Usage: map[string]int{"prompt_tokens": total, "total_tokens": total}}
	for i, v := range vecs {
		out.Data = append(out.Data, item{Object: "embedding", Index: i, Embedding: v})
	}
	writeJSON(w, http.StatusOK, out)
}

// acquire waits for the embedder's turn and for est bytes of the memory
// budget; release gives both back.
func (e *embedder) acquire(ctx context.Context, b *budget, est int64) (release func(), err error) {
	select {
	case e.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		ok, freed := b.tryReserve(est)
		if ok {
			return func() { b.release(est); <-e.turn }, nil
		}
		select {
		case <-freed:
		case <-ctx.Done():
			<-e.turn
			return nil, ctx.Err()
		}
	}
}

// embedder finds the encoder a request names ("": the first one); a
// decoder's name is a 400.
func (s *Server) embedder(name string) (*embedder, error) {
	if name == "" {
		if len(s.embNames) == 0 {
			return nil, badParam("model", "no embedding model is served")
		}
		name = s.embNames[0]
	}
	if e, ok := s.embedders[name]; ok {
		return e, nil
	}
	if _, ok := s.workers[name]; ok {
		return nil, badParam("model", "model %s is not an embedding model", name)
	}
	return nil, newError(http.StatusNotFound, "model_not_found", "model %q does not exist (serving %v)", name, append(append([]string{}, s.names...), s.embNames...))
}

// warmEmbedders encodes one short text with each encoder.
func (s *Server) warmEmbedders() {
	for _, n := range s.embNames {
		e := s.embedders[n]
		if _, err := engine.Embed(e.em.Model, e.em.Tokenizer, []string{"warm up"}, true); err != nil {
			s.log.Error("warm-up failed; serving the model anyway", "model", n, "err", err)
		}
	}
}

// addEmbedders registers the encoders of opts.Embedders (part of New).
func (s *Server) addEmbedders(ems []*engine.Embedder) error {
	s.embedders = map[string]*embedder{}
	for _, em := range ems {
		if _, dup := s.groups[em.Name]; dup || s.embedders[em.Name] != nil || em.Name == "" {
			return fmt.Errorf("serve: model name %q is empty or given twice", em.Name)
		}
		if wb := encoderWeightBytes(em); !s.budget.fixed(wb) {
			return fmt.Errorf("serve: model %q: weights (%d bytes, with the models before) exceed --memory-budget %d", em.Name, wb, s.opts.MemoryBudget)
		}
		cfg := em.Model.Config()
		s.embedders[em.Name] = &embedder{name: em.Name, em: em, cfg: cfg, mm: s.metrics.Model(em.Name, s.modelVersion(em.Name)), turn: make(chan struct{}, 1)}
		s.embNames = append(s.embNames, em.Name)
		s.metrics.ModelInfo.WithLabelValues(em.Name, s.modelVersion(em.Name), cfg.Family, fmt.Sprint(cfg.Layers), fmt.Sprint(cfg.Heads),
			fmt.Sprint(cfg.KVHeads), fmt.Sprint(cfg.VocabSize), fmt.Sprint(cfg.MaxSeq)).Set(1)
	}
	return nil
}
