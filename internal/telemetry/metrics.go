// Package telemetry holds Headlight's Prometheus metrics and the attention
// probe that feeds per-head statistics into them.
//
// Nothing here is global: New registers every collector on the registry it
// is given. Labels are bounded: model and version (the configured names
// and versions; "unversioned" when none was given), layer and
// head (the model's shape), endpoint (the server's routes), code (HTTP
// status) and reason (a fixed set of admission limits). Units are base
// units: seconds, bytes, nats; counts end in _total.
package telemetry

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Admission rejection reasons (the values of the reason label).
const (
	ReasonQueueFull      = "queue_full"
	ReasonMaxSeqLen      = "max_seq_len"
	ReasonMaxTokensCap   = "max_tokens_cap"
	ReasonContext        = "context_length"
	ReasonMaxBatchTokens = "max_batch_tokens"
	ReasonMemoryBudget   = "memory_budget"
)

// Metrics are the server's collectors.
type Metrics struct {
	// HTTP level.
	RequestDuration *prometheus.HistogramVec // model, version, endpoint, code: end to end
	InFlight        *prometheus.GaugeVec     // endpoint: requests being handled
	Errors          *prometheus.CounterVec   // model, version, endpoint, code: responses with status ≥ 400
	Rejections      *prometheus.CounterVec   // model, version, reason: admission control refusals

	// Scheduler level, per model and version (the model: comments below).
	QueueWait       *prometheus.HistogramVec // model: enqueue → batch start
	Prefill         *prometheus.HistogramVec // model: the prefill forward pass of a batch
	TimeToFirst     *prometheus.HistogramVec // model: request arrival → first token
	TimePerToken    *prometheus.HistogramVec // model: gap between consecutive tokens of a request
	PromptTokens    *prometheus.CounterVec   // model
	GeneratedTokens *prometheus.CounterVec   // model
	BatchSize       *prometheus.HistogramVec // model: requests per batch
	SeqLen          *prometheus.HistogramVec // model: prompt + generated tokens of a finished request
	Queued          *prometheus.GaugeVec     // model: requests waiting for a batch
	Running         *prometheus.GaugeVec     // model: sequences in the running batch
	MemoryReserved  prometheus.Gauge         // bytes held by weights and running batches
	MemoryBudget    prometheus.Gauge         // the configured budget

	// Attention heads, per model × version × layer × head.
	headEntropy *headHistograms        // nats, one observation per query row (sampled)
	headOutNorm *headHistograms        // per-query output norm (sampled)
	HeadNaN     *prometheus.CounterVec // NaN logits and outputs (always counted)
	HeadInf     *prometheus.CounterVec // ±Inf logits and outputs (always counted)

	// Cost, per model and version: batches' process CPU time split among
	// their requests by tokens, and that time priced by the configured
	// cost per CPU-second.
	CPUSeconds  *prometheus.CounterVec
	Cost        *prometheus.CounterVec
	RequestCost *prometheus.HistogramVec

	Captures *prometheus.CounterVec // model, version, reason ("sampled", "nan"): attention-map captures stored

	ModelInfo *prometheus.GaugeVec // model, version, family, layers, heads, kv_heads, vocab, max_seq: 1
	// TokenizerInfo (model, version, vocab, fingerprint): 1. The fingerprint
	// hashes the vocabulary, so two versions that tokenize differently show.
	TokenizerInfo *prometheus.GaugeVec
}

// latency buckets, seconds: 0.5 ms … 60 s.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// tokenBuckets: lengths in tokens up to 32k.
var tokenBuckets = prometheus.ExponentialBuckets(1, 2, 16)

// entropyBuckets, nats: log n of a uniform row over n keys is 0.69 (2),
// 2.08 (8), 4.16 (64), 6.24 (512), 8.3 (4096).
var entropyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10}

// costBuckets, currency units per request: 1e-7 … 1e2.
var costBuckets = prometheus.ExponentialBuckets(1e-7, 4, 16)

// normBuckets for per-query head output norms.
var normBuckets = prometheus.ExponentialBuckets(0.015625, 2, 16)

// New creates the metrics and registers them, with the Go runtime and
// process collectors and a build-info gauge, on reg.
func New(reg *prometheus.Registry, version string) *Metrics {
	f := factory{reg}
	m := &Metrics{
		RequestDuration: f.histogram("headlight_request_duration_seconds", "End-to-end HTTP request latency.", latencyBuckets, "model", "version", "endpoint", "code"),
		InFlight:        f.gauge("headlight_requests_in_flight", "HTTP requests being handled (queued or running).", "endpoint"),
		Errors:          f.counter("headlight_errors_total", "HTTP responses with an error status.", "model", "version", "endpoint", "code"),
		Rejections:      f.counter("headlight_admission_rejections_total", "Requests refused by admission control (each one an avoided overload or OOM), by the limit hit.", "model", "version", "reason"),

		QueueWait:       f.histogram("headlight_queue_wait_seconds", "Time a request waited in the queue before its batch started.", latencyBuckets, "model", "version"),
		Prefill:         f.histogram("headlight_prefill_duration_seconds", "Duration of a batch's prefill forward pass.", latencyBuckets, "model", "version"),
		TimeToFirst:     f.histogram("headlight_time_to_first_token_seconds", "Time from request arrival to its first generated token.", latencyBuckets, "model", "version"),
		TimePerToken:    f.histogram("headlight_time_per_output_token_seconds", "Time between consecutive generated tokens of a request.", latencyBuckets, "model", "version"),
		PromptTokens:    f.counter("headlight_prompt_tokens_total", "Prompt tokens prefilled.", "model", "version"),
		GeneratedTokens: f.counter("headlight_generated_tokens_total", "Tokens generated.", "model", "version"),
		BatchSize:       f.histogram("headlight_batch_size", "Requests per batch.", prometheus.LinearBuckets(1, 1, 16), "model", "version"),
		SeqLen:          f.histogram("headlight_sequence_length_tokens", "Prompt plus generated tokens of a finished request.", tokenBuckets, "model", "version"),
		Queued:          f.gauge("headlight_queue_length", "Requests waiting in the queue.", "model", "version"),
		Running:         f.gauge("headlight_sequences_running", "Sequences in the running batch.", "model", "version"),

		headEntropy: f.heads("headlight_attention_entropy_nats", "Attention entropy of one query row of a head (sampled requests).", entropyBuckets),
		headOutNorm: f.heads("headlight_attention_output_norm", "L2 norm of a head's output per query: the head's utilisation (sampled requests, decode steps and unpadded prefills).", normBuckets),
		HeadNaN:     f.counter("headlight_attention_nan_total", "NaN attention logits and outputs.", "model", "version", "layer", "head"),
		HeadInf:     f.counter("headlight_attention_inf_total", "Infinite attention logits and outputs (mask -Inf not counted).", "model", "version", "layer", "head"),

		CPUSeconds:  f.counter("headlight_cpu_seconds_total", "Process CPU time (user + system) of batches' forward passes, split among their requests by tokens processed.", "model", "version"),
		Cost:        f.counter("headlight_cost_total", "headlight_cpu_seconds_total priced at --cost-per-cpu-second, in currency units (0 while off).", "model", "version"),
		RequestCost: f.histogram("headlight_request_cost", "Cost of one request in currency units: its token share of its batch's CPU time times --cost-per-cpu-second (observed only while on).", costBuckets, "model", "version"),

		Captures: f.counter("headlight_attention_captures_total", "Attention-map captures stored, by why the request was captured (sampled, nan).", "model", "version", "reason"),

		ModelInfo:     f.gauge("headlight_model_info", "Loaded models (value 1).", "model", "version", "family", "layers", "heads", "kv_heads", "vocab", "max_seq"),
		TokenizerInfo: f.gauge("headlight_tokenizer_info", "Each loaded model's tokenizer (value 1): vocabulary size and a hash of its tokens.", "model", "version", "vocab", "fingerprint"),
	}
	m.MemoryReserved = prometheus.NewGauge(prometheus.GaugeOpts{Name: "headlight_memory_reserved_bytes", Help: "Memory reserved by admission control: weights plus running batches' KV caches and activations."})
	m.MemoryBudget = prometheus.NewGauge(prometheus.GaugeOpts{Name: "headlight_memory_budget_bytes", Help: "The configured memory budget."})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "headlight_build_info", Help: "Build information (value 1)."}, []string{"version", "goversion"})
	build.WithLabelValues(version, runtime.Version()).Set(1)
	reg.MustRegister(m.MemoryReserved, m.MemoryBudget, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// factory creates collectors and registers them.
type factory struct{ reg *prometheus.Registry }

func (f factory) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

func (f factory) heads(name, help string, buckets []float64) *headHistograms {
	h := newHeadHistograms(name, help, buckets)
	f.reg.MustRegister(h)
	return h
}

func (f factory) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

// ModelMetrics are the per-model series of Metrics, resolved once so the
// scheduler's hot loop does no label lookups.
type ModelMetrics struct {
	QueueWait, Prefill, TimeToFirst, TimePerToken, BatchSize, SeqLen prometheus.Observer
	PromptTokens, GeneratedTokens                                    prometheus.Counter
	Queued, Running                                                  prometheus.Gauge
	CPUSeconds, Cost                                                 prometheus.Counter
	RequestCost                                                      prometheus.Observer
}

// Model resolves the per-model series of name at version (creating them at zero, so
// dashboards see every model from the start).
func (m *Metrics) Model(name, version string) *ModelMetrics {
	return &ModelMetrics{
		QueueWait:       m.QueueWait.WithLabelValues(name, version),
		Prefill:         m.Prefill.WithLabelValues(name, version),
		TimeToFirst:     m.TimeToFirst.WithLabelValues(name, version),
		TimePerToken:    m.TimePerToken.WithLabelValues(name, version),
		BatchSize:       m.BatchSize.WithLabelValues(name, version),
		SeqLen:          m.SeqLen.WithLabelValues(name, version),
		PromptTokens:    m.PromptTokens.WithLabelValues(name, version),
		GeneratedTokens: m.GeneratedTokens.WithLabelValues(name, version),
		Queued:          m.Queued.WithLabelValues(name, version),
		Running:         m.Running.WithLabelValues(name, version),
		CPUSeconds:      m.CPUSeconds.WithLabelValues(name, version),
		Cost:            m.Cost.WithLabelValues(name, version),
		RequestCost:     m.RequestCost.WithLabelValues(name, version),
	}
}
