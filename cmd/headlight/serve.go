package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/serve"
	"github.com/headlight/headlight/internal/telemetry"
	"github.com/headlight/headlight/internal/weights"
	"github.com/prometheus/client_golang/prometheus"
)

// runServe is `headlight serve`: it serves until SIGINT or SIGTERM, then
// drains in-flight requests.
func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveMain(ctx, args, stdout, stderr, nil)
}

// modelFlags collects repeated --model name=PATH values.
type modelFlags []string

func (m *modelFlags) String() string     { return strings.Join(*m, ",") }
func (m *modelFlags) Set(v string) error { *m = append(*m, v); return nil }

// byteSize is a flag holding a size in bytes: 1GiB, 512MiB, 2GB, 1e9, 4096.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	s := strings.TrimSpace(v)
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f*mult > 1<<62 {
		return fmt.Errorf("size %q: want a positive number of bytes with an optional unit (KiB, MiB, GiB, KB, MB, GB)", v)
	}
	*b = byteSize(f * mult)
	return nil
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "HEADLIGHT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// serveMain parses args (and HEADLIGHT_* variables), loads the models and
// serves until ctx is cancelled. onListen, when set, receives the bound
// address (tests listen on port 0).
func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer, onListen func(addr string)) int {
	def := serve.Defaults()
	fs := flag.NewFlagSet("headlight serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML `file` of flag settings (keys are flag names; see above)")
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on")
	var models modelFlags
	fs.Var(&models, "model", "a model to serve as `name[@version]=PATH` (the version is a metrics label and span attribute, and responses name the model name@version; several versions of one name may be served, see --canary; llama2.c .bin with tokenizer.bin beside it, .gguf, or a Hugging Face directory, where model_type bert serves /v1/embeddings; PATH "+engine.DefaultModel+" or empty: the embedded model); repeatable, the first is the default; in the variable, comma-separated (default: the embedded "+engine.DefaultModel+")")
	var canaries modelFlags
	fs.Var(&canaries, "canary", "send a fraction of a model's requests to another of its versions, as `name=version:weight` (e.g. stories=v2:0.1 with --model stories@v1=A --model stories@v2=B): by a hash of the request's user field, else its X-Request-Key header, else at random, so one user always sees one version; the rest go to the first-listed version, and model \"name@version\" pins one; repeatable (one per model); in the variable, comma-separated")
	weightType := fs.String("weights", "f32", weightsHelp+"; decoder models only")
	maxBatch := fs.Int("max-batch", def.MaxBatch, "most requests in one batch")
	maxBatchTokens := fs.Int("max-batch-tokens", def.MaxBatchTokens, "most padded prefill tokens in one batch (requests × longest prompt); a longer prompt gets 413")
	maxQueueWait := fs.Duration("max-queue-wait", def.MaxQueueWait, "how long an idle model waits for more requests so that their prompts prefill in one step (0: start at once; later requests join the running batch between decode steps anyway)")
	maxQueue := fs.Int("max-queue", def.MaxQueue, "queued requests per model before 429 (with Retry-After)")
	maxSeqLen := fs.Int("max-seq-len", 0, "longest prompt + completion in tokens (0: each model's context); a longer prompt gets 413, prompt + max_tokens over it 422")
	maxTokensCap := fs.Int("max-tokens-cap", def.MaxTokensCap, "largest max_tokens accepted (over it: 422)")
	budget := byteSize(def.MemoryBudget)
	fs.Var(&budget, "memory-budget", "memory (a `size` such as 1GiB, 512MiB, 2GB) for weights + KV caches + activations; a request that can never fit gets 413, batches wait for room (default 1GiB)")
	sample := fs.Float64("head-stats-sample", def.HeadStatsSample, "fraction of requests whose per-head entropy and output norm are recorded in /metrics (NaN/Inf are always counted)")
	captureDB := fs.String("capture-db", "", "bbolt `file` for sampled attention-map captures (GET /v1/captures); capture is off when empty")
	captureSample := fs.Float64("capture-sample", def.CaptureSample, "fraction of completion requests whose prompt attention maps are captured (requests stopped by the NaN guard always are); needs --capture-db")
	captureHeads := fs.String("capture-heads", "", "heads to capture as `LAYER:HEAD,...` (HEAD may be *, LAYER may be negative: -1 is the last) (default -1:*, every head of the last layer)")
	captureTopK := fs.Int("capture-topk", def.CaptureTopK, "weights kept per query row of a captured map (the largest, as index and weight)")
	captureRaw := fs.Bool("capture-raw-tokens", false, "keep each captured token's text; by default only its id and a salted SHA-256 prefix of its text")
	captureMax := fs.Int("capture-max", def.CaptureMax, "captures kept in --capture-db; older ones are deleted")
	costPerCPU := fs.Float64("cost-per-cpu-second", 0, "price of one second of process CPU time, in your currency units: each batch's CPU time (getrusage, user + system) is split among its requests by tokens processed into headlight_cost_total and headlight_request_cost (0: off; headlight_cpu_seconds_total is kept either way)")
	threads := fs.Int("threads", 0, "worker threads for the kernels (0 = GOMAXPROCS)")
	shutdown := fs.Duration("shutdown-timeout", def.ShutdownTimeout, "how long SIGINT/SIGTERM waits for in-flight requests before cancelling them")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (JSON logs on stderr; request text is never logged)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: headlight serve [flags]

Serves the models over HTTP: POST /v1/completions (OpenAI-compatible, with
"stream": true for server-sent events), POST /v1/embeddings (for BERT-style
encoders: a Hugging Face directory whose config.json has model_type "bert"),
GET /v1/models, POST /v1/attention
(tokens, per layer × head statistics and attention maps of a text),
GET /healthz, GET /readyz (200 after the warm-up pass) and GET /metrics
(Prometheus), GET /v1/captures and GET /v1/captures/{id} (sampled
attention-map captures, with --capture-db). SIGINT or SIGTERM stops
accepting requests and drains the ones in flight.

Every flag can also be set by an environment variable, shown in brackets;
a flag on the command line wins over the variable.

`+configHelp+`
Tracing: with OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
set, every request's spans (tokenize, queue, prefill, decode, detokenize) go
to that OTLP/HTTP endpoint (the other OTEL_EXPORTER_OTLP_* variables,
OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES apply); unset, tracing is
off. JSON log lines of a traced request carry trace_id and span_id.

Flags:
`)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" && f.DefValue != "0" && f.Name != "model" && f.Name != "memory-budget" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintf(stderr, " [$%s]\n", envName(f.Name))
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headlight serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "headlight serve:", err)
		return 2
	}
	if *configFile != "" {
		if err := applyConfig(fs, *configFile); err != nil {
			fmt.Fprintln(stderr, "headlight serve:", err)
			return 2
		}
	}
	wt, err := parseWeights(*weightType)
	if err != nil {
		fmt.Fprintln(stderr, "headlight serve: --weights:", err)
		return 2
	}
	var canarySpecs []serve.Canary
	for _, c := range canaries {
		cs, err := serve.ParseCanary(c)
		if err != nil {
			fmt.Fprintln(stderr, "headlight serve:", err)
			return 2
		}
		canarySpecs = append(canarySpecs, cs)
	}
	capHeads, err := serve.ParseCaptureHeads(*captureHeads)
	if err != nil {
		fmt.Fprintln(stderr, "headlight serve:", err)
		return 2
	}
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	lv, ok := level[*logLevel]
	if !ok {
		fmt.Fprintf(stderr, "headlight serve: unknown log level %q\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv}))
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight serve:", err); return 1 }
	tp, stopTracing, err := telemetry.NewTracerProvider(ctx, "headlight", version)
	if err != nil {
		return fail(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(sctx); err != nil {
			log.Warn("flushing traces failed", "err", err)
		}
	}()
	if telemetry.TracingEnabled() {
		log.Info("tracing on: OTLP/HTTP exporter from OTEL_EXPORTER_OTLP_* variables")
	}

	pool := kernels.NewPool(*threads)
	defer pool.Close()
	eng := attention.NewEngine(pool)
	if len(models) == 0 {
		models = modelFlags{engine.DefaultModel + "="}
	}
	var loaded []*engine.Loaded
	var embedders []*engine.Embedder
	defer func() {
		for _, ld := range loaded {
			ld.Close()
		}
		for _, em := range embedders {
			em.Close()
		}
	}()
	versions := map[string]string{}
	for _, spec := range models {
		name, path, hasName := strings.Cut(spec, "=")
		if !hasName {
			name, path = "", spec
		}
		name, ver, _ := strings.Cut(name, "@")
		t0 := time.Now()
		if hc, err := weights.LoadHFConfig(path); err == nil && hc.ModelType == "bert" {
			em, err := engine.LoadEmbedder(path, eng, nil)
			if err != nil {
				return fail(fmt.Errorf("model %q: %w", spec, err))
			}
			if name != "" {
				em.Name = name
			}
			if ver != "" {
				versions[em.Name] = ver
			}
			embedders = append(embedders, em)
			cfg := em.Model.Config()
			log.Info("embedding model loaded", "model", em.Name, "family", cfg.Family, "layers", cfg.Layers, "heads", cfg.Heads,
				"context", cfg.MaxSeq, "load_s", time.Since(t0).Seconds())
			continue
		}
		ld, err := engine.LoadWithOptions(path, "", eng, engine.LoadOptions{Weights: wt})
		if err != nil {
			return fail(fmt.Errorf("model %q: %w", spec, err))
		}
		if name != "" {
			ld.Name = name
		}
		if ver != "" {
			ld.Name += "@" + ver // serve.New splits name and version
		}
		loaded = append(loaded, ld)
		cfg := ld.Model.Config()
		log.Info("model loaded", "model", ld.Name, "family", cfg.Family, "layers", cfg.Layers, "heads", cfg.Heads,
			"kv_heads", cfg.KVHeads, "context", cfg.MaxSeq, "weights", wt.String(), "load_s", time.Since(t0).Seconds())
	}
	opts := serve.Options{MaxBatch: *maxBatch, MaxBatchTokens: *maxBatchTokens, MaxQueueWait: *maxQueueWait,
		MaxQueue: *maxQueue, MaxSeqLen: *maxSeqLen, MaxTokensCap: *maxTokensCap, MemoryBudget: int64(budget),
		HeadStatsSample: *sample, CostPerCPUSecond: *costPerCPU, ShutdownTimeout: *shutdown, Version: version, Logger: log,
		ModelVersions: versions, Canaries: canarySpecs, TracerProvider: tp, Embedders: embedders, CaptureDB: *captureDB, CaptureSample: *captureSample,
		CaptureHeads: capHeads, CaptureTopK: *captureTopK, CaptureRawTokens: *captureRaw, CaptureMax: *captureMax}
	srv, err := serve.New(opts, loaded, prometheus.NewRegistry())
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Close()
		return fail(err)
	}
	bound := ln.Addr().String()
	fmt.Fprintf(stdout, "headlight serve: listening on http://%s\n", bound)
	log.Info("listening", "addr", bound, "kernels", kernels.Impl(), "threads", pool.Threads())
	if onListen != nil {
		onListen(bound)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return fail(err)
	}
	log.Info("stopped")
	return 0
}

// applyEnv sets every flag not given on the command line from its
// HEADLIGHT_* variable, if set and not empty (--model's and --canary's
// variables are comma-separated).
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || v == "" || given[f.Name] || err != nil {
			return
		}
		vals := []string{v}
		if repeatable[f.Name] {
			vals = strings.Split(v, ",")
		}
		for _, x := range vals {
			if e := fs.Set(f.Name, strings.TrimSpace(x)); e != nil {
				err = fmt.Errorf("$%s: %w", envName(f.Name), e)
				return
			}
		}
	})
	return err
}
