package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/telemetry"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Server serves a set of loaded models.
type Server struct {
	opts     Options
	log      *slog.Logger
	reg      *prometheus.Registry
	tracer   trace.Tracer
	metrics  *telemetry.Metrics
	budget   *budget
	captures *captureStore      // nil: capture off
	workers  map[string]*worker // by id: "name@version", or "name" when unversioned
	names    []string           // worker ids in the order given
	groups   map[string]*group  // by model name: its versions and canary
	// groupNames are the model names in the order given; groupNames[0] is
	// the default.
	groupNames []string

	embedders map[string]*embedder
	embNames  []string // encoder names in the order given; embNames[0] is the default
	created   int64    // unix seconds, for /v1/models

	ready    atomic.Bool // warmed up and not shutting down
	stopping atomic.Bool
	handlers sync.WaitGroup // running completion/attention handlers
}

// New checks the options, registers the metrics on reg and starts one
// worker per model. Model names must be unique; models[0] is the default
// for requests that name none. Call Serve (or Close) afterwards.
func New(opts Options, models []*engine.Loaded, reg *prometheus.Registry) (*Server, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if len(models) == 0 && len(opts.Embedders) == 0 {
		return nil, errors.New("serve: no models")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Logger = slog.New(telemetry.TraceLogHandler(opts.Logger.Handler()))
	if opts.TracerProvider == nil {
		opts.TracerProvider = noop.NewTracerProvider()
	}
	s := &Server{opts: opts, log: opts.Logger, reg: reg, metrics: telemetry.New(reg, opts.Version),
		tracer: opts.TracerProvider.Tracer(tracerName), workers: map[string]*worker{}, created: time.Now().Unix()}
	s.metrics.MemoryBudget.Set(float64(opts.MemoryBudget))
	s.budget = newBudget(opts.MemoryBudget, s.metrics.MemoryReserved)
	for _, ld := range models {
		name, version := splitModelID(ld.Name)
		if version == "" {
			version = s.modelVersion(name)
		}
		id := name
		if version != unversioned {
			id = name + "@" + version
		}
		if _, dup := s.workers[id]; dup || name == "" {
			return nil, fmt.Errorf("serve: model %q is unnamed or given twice", ld.Name)
		}
		cfg := ld.Model.Config()
		if tv := ld.Tokenizer.VocabSize(); tv != cfg.VocabSize {
			return nil, fmt.Errorf("serve: model %q: tokenizer has %d tokens, the model %d", ld.Name, tv, cfg.VocabSize)
		}
		if wb := WeightBytes(ld.Model); !s.budget.fixed(wb) {
			return nil, fmt.Errorf("serve: model %q: weights (%d bytes, with the models before) exceed --memory-budget %d", ld.Name, wb, opts.MemoryBudget)
		}
		maxSeq := cfg.MaxSeq
		if opts.MaxSeqLen > 0 {
			maxSeq = min(maxSeq, opts.MaxSeqLen)
		}
		var capHeads []mapRef
		if opts.CaptureDB != "" {
			var err error
			if capHeads, err = resolveCaptureHeads(opts.CaptureHeads, cfg); err != nil {
				return nil, fmt.Errorf("serve: model %q: %w", ld.Name, err)
			}
		}
		w := &worker{name: name, id: id, capHeads: capHeads, ld: ld, cfg: cfg, maxSeq: maxSeq, opts: &s.opts, mm: s.metrics.Model(name, version), arena: new(tensor.Arena),
			probe: s.metrics.NewHeadProbe(name, version, cfg.Layers, cfg.Heads), budget: s.budget, log: s.log,
			tracer: s.tracer, version: version,
			wake: make(chan struct{}, 1), done: make(chan struct{})}
		s.metrics.ModelInfo.WithLabelValues(name, version, cfg.Family, strconv.Itoa(cfg.Layers), strconv.Itoa(cfg.Heads),
			strconv.Itoa(cfg.KVHeads), strconv.Itoa(cfg.VocabSize), strconv.Itoa(maxSeq)).Set(1)
		s.metrics.TokenizerInfo.WithLabelValues(name, version, strconv.Itoa(ld.Tokenizer.VocabSize()),
			engine.TokenizerFingerprint(ld.Tokenizer)).Set(1)
		s.workers[id] = w
		s.names = append(s.names, id)
	}
	if err := s.addGroups(opts.Canaries); err != nil {
		return nil, err
	}
	if err := s.addEmbedders(opts.Embedders); err != nil {
		return nil, err
	}
	if opts.CaptureDB != "" {
		st, err := openCaptureStore(opts.CaptureDB, opts.CaptureMax, s.log, func(c *captureRecord) {
			s.metrics.Captures.WithLabelValues(c.Model, c.Version, c.Reason).Inc()
		})
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		s.captures = st
		for _, w := range s.workers {
			w.captures = st
		}
	}
	for _, w := range s.workers {
		go w.loop()
	}
	return s, nil
}

// Ready reports whether /readyz answers 200.
func (s *Server) Ready() bool { return s.ready.Load() }

// Warmup runs every model once through the scheduler (a short generation
// and an attention pass) and then marks the server ready. A model that
// fails its warm-up (a NaN, say) is logged and still served: its requests
// will get the error. Warmup fails only when ctx ends or a queue refuses.
func (s *Server) Warmup(ctx context.Context) error {
	for _, name := range s.names {
		w := s.workers[name]
		bos := w.ld.Tokenizer.BOS()
		n := max(min(8, w.maxSeq-1), 1)
		g := &job{ctx: ctx, kind: kindGenerate, prompt: []int{bos}, maxTokens: n, warm: true, arrived: time.Now(), events: make(chan event, n+1)}
		a := &job{ctx: ctx, kind: kindAttention, prompt: []int{bos, bos}, warm: true, arrived: time.Now(), result: make(chan *attnResult, 1)}
		if err := w.submit(g); err != nil {
			return fmt.Errorf("warm-up of %q: %w", name, err)
		}
		var err error
		for ev := range g.events {
			if ev.err != nil || ev.finish != "" {
				err = ev.err
				break
			}
		}
		if err == nil {
			if err = w.submit(a); err != nil {
				return fmt.Errorf("warm-up of %q: %w", name, err)
			}
			err = (<-a.result).err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.log.Error("warm-up failed; serving the model anyway", "model", name, "err", err)
		}
	}
	s.warmEmbedders()
	s.ready.Store(true)
	if s.stopping.Load() { // Serve began shutting down meanwhile
		s.ready.Store(false)
		return nil
	}
	s.log.Info("ready")
	return nil
}

// Handler is the HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, endpoint string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(endpoint, h))
	}
	route("POST /v1/completions", "/v1/completions", s.tracked(s.handleCompletions))
	route("POST /v1/attention", "/v1/attention", s.tracked(s.handleAttention))
	route("POST /v1/embeddings", "/v1/embeddings", s.tracked(s.handleEmbeddings))
	route("GET /v1/models", "/v1/models", s.handleModels)
	route("GET /v1/captures", "/v1/captures", s.handleCaptureList)
	route("GET /v1/captures/{id}", "/v1/captures/{id}", s.handleCaptureGet)
	route("GET /healthz", "/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	route("GET /readyz", "/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			writeError(w, s.notReady())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", s.instrument("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})))
	route("/", "other", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newError(http.StatusNotFound, "not_found", "no route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// maxBody bounds request bodies.
const maxBody = 4 << 20

// tracked wraps a model endpoint: 503 while not ready or shutting down, a
// bounded body, and membership in the handlers the shutdown drains.
func (s *Server) tracked(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeError(w, s.notReady())
			return
		}
		s.handlers.Add(1)
		defer s.handlers.Done()
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h(w, r)
	}
}

func (s *Server) notReady() *apiError {
	if s.stopping.Load() {
		return newError(http.StatusServiceUnavailable, "shutting_down", "the server is shutting down")
	}
	return newError(http.StatusServiceUnavailable, "not_ready", "the server is warming up")
}

// sample decides whether a request's head statistics are recorded.
func (s *Server) sample() bool {
	return s.opts.HeadStatsSample >= 1 || rand.Float64() < s.opts.HeadStatsSample
}

func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		ID        string `json:"id"`
		Object    string `json:"object"`
		Created   int64  `json:"created"`
		OwnedBy   string `json:"owned_by"`
		Family    string `json:"family"`
		Layers    int    `json:"layers"`
		Heads     int    `json:"heads"`
		KVHeads   int    `json:"kv_heads"`
		MaxSeqLen int    `json:"max_seq_len"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []entry `json:"data"`
	}{Object: "list", Data: []entry{}}
	for _, n := range s.names {
		wk := s.workers[n]
		out.Data = append(out.Data, entry{ID: n, Object: "model", Created: s.created, OwnedBy: "headlight",
			Family: wk.cfg.Family, Layers: wk.cfg.Layers, Heads: wk.cfg.Heads, KVHeads: wk.cfg.KVHeads, MaxSeqLen: wk.maxSeq})
	}
	for _, n := range s.embNames {
		c := s.embedders[n].cfg
		out.Data = append(out.Data, entry{ID: n, Object: "model", Created: s.created, OwnedBy: "headlight",
			Family: c.Family, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads, MaxSeqLen: c.MaxSeq})
	}
	writeJSON(w, http.StatusOK, out)
}

// Serve answers HTTP on ln, warming up first (/readyz is 503 until then),
// until ctx is cancelled; then it shuts down gracefully: /readyz and new
// requests get 503, in-flight requests finish (up to ShutdownTimeout, after
// which they are cancelled), and the workers stop. It returns nil after a
// clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return base }}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	go func() {
		if err := s.Warmup(base); err != nil && !s.stopping.Load() {
			s.log.Error("warm-up failed", "err", err)
			errc <- err
		}
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down", "drain_timeout", s.opts.ShutdownTimeout.String())
	s.stopping.Store(true)
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("drain timed out: cancelling in-flight requests", "err", err)
		cancelAll() // every request context derives from base
		hs.Close()
	}
	s.handlers.Wait()
	s.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// Close stops the workers after their queues drain. Serve calls it.
func (s *Server) Close() {
	s.stopping.Store(true)
	s.ready.Store(false)
	for _, w := range s.workers {
		w.close()
	}
	for _, w := range s.workers {
		<-w.done
	}
	if s.captures != nil {
		s.captures.close()
	}
}
