package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/loadgen"
	"github.com/headlight/headlight/internal/serve"
	"github.com/prometheus/client_golang/prometheus"
)

// benchServeReport is the --json output of `headlight bench serve`.
type benchServeReport struct {
	Target      string            `json:"target"` // in-process or the --addr URL
	Model       string            `json:"model"`
	Requests    int               `json:"requests_limit"`
	Duration    string            `json:"duration_limit"`
	Concurrency int               `json:"concurrency"`
	Stream      bool              `json:"stream"`
	Workload    loadgen.Workload  `json:"workload"`
	Load        loadgen.Summary   `json:"load"`
	Overhead    *loadgen.Overhead `json:"overhead,omitempty"`
	// Throughput: the same items through a second in-process server with
	// --max-batch 1 kept busy by several clients, against the engine.
	Throughput *loadgen.Throughput `json:"throughput_batch1,omitempty"`
}

// benchServe is `headlight bench serve`: a bounded load test of the server
// over loopback, and the server's overhead over the engine at batch 1.
func benchServe(args []string, stdout, stderr io.Writer) int {
	def, wl := serve.Defaults(), loadgen.DefaultWorkload()
	fs := flag.NewFlagSet("headlight bench serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "`host:port` of a running server on loopback (default: start one in-process on 127.0.0.1:0)")
	modelPath := fs.String("model", "", "model served in-process and used to count prompt tokens and for the engine comparison (default: the embedded "+engine.DefaultModel+")")
	modelName := fs.String("model-name", "", "the \"model\" field of the requests (default: the server's default model)")
	requests := fs.Int("requests", 200, "send at most this many requests")
	duration := fs.Duration("duration", 60*time.Second, "stop after this long (requests still running are cancelled and reported apart)")
	concurrency := fs.Int("concurrency", 4, "clients sending requests back to back")
	stream := fs.Bool("stream", false, "stream the answers (server-sent events; measures time to first token)")
	fs.Uint64Var(&wl.Seed, "seed", wl.Seed, "seed of the workload (prompt lengths, words, max_tokens, sampling seeds)")
	fs.Float64Var(&wl.PromptMedian, "prompt-median", wl.PromptMedian, "median prompt length in tokens (log-normal)")
	fs.Float64Var(&wl.PromptSigma, "prompt-sigma", wl.PromptSigma, "standard deviation of ln(prompt length)")
	fs.IntVar(&wl.PromptMax, "prompt-max", wl.PromptMax, "longest prompt in tokens (also capped by the model's context)")
	fs.Float64Var(&wl.Temperature, "temperature", wl.Temperature, "sampling temperature of the load (0: greedy)")
	overheadRuns := fs.Int("overhead-runs", 6, "alternating server/engine runs for the batch-1 overhead (0: skip; in-process server only)")
	overheadItems := fs.Int("overhead-items", 16, "greedy requests per overhead run")
	tputClients := fs.Int("throughput-clients", 2, "clients keeping the batch-1 server busy in the throughput comparison (0: skip it)")
	threads := fs.Int("threads", 0, "worker threads for the kernels (0 = GOMAXPROCS)")
	maxBatch := fs.Int("max-batch", def.MaxBatch, "in-process server: most requests in one batch")
	maxQueueWait := fs.Duration("max-queue-wait", def.MaxQueueWait, "in-process server: how long an idle model waits for company before prefilling (0: start at once)")
	maxQueue := fs.Int("max-queue", def.MaxQueue, "in-process server: queued requests per model before 429")
	headStats := fs.Float64("head-stats-sample", def.HeadStatsSample, "in-process server: fraction of requests whose per-head statistics are recorded")
	asJSON := fs.Bool("json", false, "print one JSON object instead of tables")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the overhead runs to `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: headlight bench serve [flags]

Drives POST /v1/completions over loopback with a seeded workload (log-normal
prompt lengths built from a fixed word list, max_tokens 16/32/64/128),
bounded by --requests and --duration, and prints latency and time-to-first-
token percentiles, generated tokens/s, requests/s and the error rate. With
the in-process server it then measures the server's overhead at batch 1:
the same greedy generations one at a time through the server (one keep-
alive connection) and through the engine called directly (encode,
engine.Generate, decode), interleaved request by request, every answer
checked equal; it prints each run's tokens/s ratio and their median. Then
the throughput at batch 1: the same requests through a second in-process
server that runs one request at a time (--max-batch 1), kept busy by
--throughput-clients connections, against the engine back to back, runs
alternating; each run's ratio and their median.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(err error) int { fmt.Fprintln(stderr, "headlight bench serve:", err); return 2 }
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight bench serve:", err); return 1 }
	switch {
	case fs.NArg() > 0:
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case *requests < 1 || *concurrency < 1 || *duration <= 0:
		return usageErr(fmt.Errorf("--requests, --concurrency and --duration must be positive"))
	case *overheadRuns < 0 || *overheadItems < 1 || *tputClients < 0:
		return usageErr(fmt.Errorf("--overhead-runs and --throughput-clients must be ≥ 0 and --overhead-items ≥ 1"))
	}
	if *addr != "" {
		if _, err := loadgen.BaseURL(*addr); err != nil {
			return usageErr(err)
		}
	}
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	ld, err := engine.Load(*modelPath, "", attention.NewEngine(pool))
	if err != nil {
		return fail(err)
	}
	defer ld.Close()
	maxNew := 0
	for _, m := range wl.MaxTokens {
		maxNew = max(maxNew, m)
	}
	wl.PromptMax = min(wl.PromptMax, ld.Model.Config().MaxSeq-maxNew)
	wl.Stream = *stream
	count := func(s string) int { return len(ld.Tokenizer.Encode(s, true, false)) }
	items, err := wl.Items(min(*requests, 4096), count)
	if err != nil {
		return usageErr(err)
	}

	ctx := context.Background()
	base, target := *addr, *addr
	opts := def
	opts.MaxBatch, opts.MaxQueueWait, opts.MaxQueue, opts.Version = *maxBatch, *maxQueueWait, *maxQueue, version
	opts.HeadStatsSample, opts.ShutdownTimeout = *headStats, 10*time.Second
	if *addr == "" {
		url, stop, err := startInProcess(opts, ld)
		if err != nil {
			return fail(err)
		}
		defer stop()
		base, target = url, "in-process "+url
	}
	fmt.Fprintf(stderr, "load: %d requests or %v, concurrency %d, stream %v, against %s …\n", *requests, *duration, *concurrency, *stream, target)
	cfg := loadgen.Config{BaseURL: base, Model: *modelName, Requests: *requests, Duration: *duration,
		Concurrency: *concurrency, Stream: *stream, Temperature: wl.Temperature}
	recs, wall, err := loadgen.Run(ctx, cfg, items)
	if err != nil {
		return fail(err)
	}
	rep := benchServeReport{Target: target, Model: ld.Name, Requests: *requests, Duration: duration.String(),
		Concurrency: *concurrency, Stream: *stream, Workload: wl, Load: loadgen.Summarize(recs, wall)}
	if *addr == "" && *overheadRuns > 0 {
		fmt.Fprintf(stderr, "overhead at batch 1: %d alternating runs of %d greedy requests …\n", *overheadRuns, *overheadItems)
		greedy := wl
		greedy.Temperature = 0
		oitems, err := greedy.Items(*overheadItems, count)
		if err != nil {
			return fail(err)
		}
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return fail(err)
		}
		o, err := loadgen.MeasureOverhead(ctx, base, ld, oitems, *overheadRuns)
		if perr := stopProfile(); err == nil {
			err = perr
		}
		if err != nil {
			return fail(err)
		}
		rep.Overhead = &o
		if *tputClients > 0 {
			fmt.Fprintf(stderr, "throughput at batch 1: %d alternating runs, %d clients on a --max-batch 1 server …\n", *overheadRuns, *tputClients)
			one := opts
			one.MaxBatch = 1
			url, stop, err := startInProcess(one, ld)
			if err != nil {
				return fail(err)
			}
			t, err := loadgen.MeasureThroughput(ctx, url, ld, oitems, *overheadRuns, *tputClients)
			stop()
			if err != nil {
				return fail(err)
			}
			rep.Throughput = &t
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return boolExit(enc.Encode(rep) == nil)
	}
	fmt.Fprintf(stdout, "target %s, model %s, %d requests or %s, concurrency %d, stream %v, seed %d\n",
		rep.Target, rep.Model, rep.Requests, rep.Duration, rep.Concurrency, rep.Stream, wl.Seed)
	if err := rep.Load.WriteTable(stdout); err != nil {
		return fail(err)
	}
	if o := rep.Overhead; o != nil {
		fmt.Fprintf(stdout, "\nserver overhead at batch 1 (%d greedy requests per run, interleaved; ratio = server tokens/s ÷ engine tokens/s)\n", o.Items)
		fmt.Fprintln(stdout, "run  server tok/s  engine tok/s  ratio")
		for i, r := range o.Runs {
			fmt.Fprintf(stdout, "%3d  %12.0f  %12.0f  %.3f\n", i+1, r.ServerTokPerS, r.EngineTokPerS, r.Ratio)
		}
		fmt.Fprintf(stdout, "median ratio %.3f → overhead %.1f %% of throughput (server %.0f, engine %.0f tokens/s)\n",
			o.MedianRatio, 100*o.OverheadFrac, o.MedianServer, o.MedianEngine)
	}
	if t := rep.Throughput; t != nil {
		fmt.Fprintf(stdout, "\nthroughput at batch 1 (%d greedy requests per run; server: --max-batch 1, %d clients; engine: back to back)\n", t.Items, t.Clients)
		fmt.Fprintln(stdout, "run  first   server tok/s  engine tok/s  ratio")
		for i, r := range t.Runs {
			fmt.Fprintf(stdout, "%3d  %-6s  %12.0f  %12.0f  %.3f\n", i+1, r.First, r.ServerTokPerS, r.EngineTokPerS, r.Ratio)
		}
		fmt.Fprintf(stdout, "median ratio %.3f → overhead %.1f %% of throughput at batch 1 (server %.0f, engine %.0f tokens/s)\n",
			t.MedianRatio, 100*t.OverheadFrac, t.MedianServer, t.MedianEngine)
	}
	return 0
}

// startCPUProfile starts a pprof CPU profile into path ("" = none); stop
// ends it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

// startInProcess serves ld on 127.0.0.1:0 and waits (up to 30 s) until
// /readyz answers 200. stop shuts the server down and waits for it.
func startInProcess(opts serve.Options, ld *engine.Loaded) (url string, stop func(), err error) {
	srv, err := serve.New(opts, []*engine.Loaded{ld}, prometheus.NewRegistry())
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
		}
	}
	url = "http://" + ln.Addr().String()
	client := loadgen.NewClient(1)
	defer client.CloseIdleConnections()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, stop, nil
			}
		}
		select {
		case err := <-done:
			return "", nil, fmt.Errorf("in-process server stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("in-process server not ready after 30s (last: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
