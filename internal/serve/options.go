package serve

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/headlight/headlight/internal/engine"
	"go.opentelemetry.io/otel/trace"
)

// Options are the server's limits and knobs (the serve command's flags).
type Options struct {
	MaxBatch        int           // requests per batch
	MaxBatchTokens  int           // padded prefill tokens per batch (batch × longest prompt)
	MaxQueueWait    time.Duration // how long the oldest request waits for a batch to fill
	MaxQueue        int           // queued requests per model before 429
	MaxSeqLen       int           // prompt + generated tokens (0: the model's context)
	MaxTokensCap    int           // largest max_tokens accepted
	MemoryBudget    int64         // bytes for weights + KV caches + activations
	HeadStatsSample float64       // fraction of requests whose head statistics are recorded
	ShutdownTimeout time.Duration // how long shutdown waits for in-flight requests
	Version         string        // reported in headlight_build_info
	Logger          *slog.Logger  // nil: discard; records logged with a span get trace_id and span_id
	// CostPerCPUSecond prices the CPU time of each batch, split among its
	// requests by tokens (headlight_cost_total, headlight_request_cost;
	// 0: off). See cost.go.
	CostPerCPUSecond float64
	// NoInline sends every request through the model's worker goroutine
	// (by default a non-streamed request that finds its model idle runs on
	// its handler's goroutine: see worker.submit). For A/B measurements.
	NoInline bool

	// Attention-map capture (off while CaptureDB is ""): the fraction
	// CaptureSample of completion requests, and every request stopped by
	// the NaN guard, keep the top CaptureTopK weights of each query row of
	// the heads CaptureHeads (nil: every head of the last layer), with
	// tokens as salted hashes (and text too with CaptureRawTokens), in the
	// bbolt file CaptureDB, keeping the newest CaptureMax.
	CaptureDB        string
	CaptureSample    float64
	CaptureHeads     []CaptureHead
	CaptureTopK      int
	CaptureRawTokens bool
	CaptureMax       int

	// Embedders are encoder models served on /v1/embeddings (their names
	// share one namespace with the decoders).
	Embedders []*engine.Embedder

	// ModelVersions maps a model name to its version (span attribute
	// headlight.model.version, metrics label version; "unversioned" when
	// absent). A model loaded with Name "name@version" has that version
	// whatever the map says; several versions of one name may be served.
	ModelVersions map[string]string
	// Canaries split a model's traffic between its stable (first listed)
	// version and another one, by request key (see doc.go).
	Canaries []Canary
	// TracerProvider makes the request spans (nil: no tracing). See
	// telemetry.NewTracerProvider for the OTLP one.
	TracerProvider trace.TracerProvider
}

// Defaults returns the serve command's defaults.
func Defaults() Options {
	return Options{MaxBatch: 8, MaxBatchTokens: 4096, MaxQueueWait: 0, MaxQueue: 64,
		MaxTokensCap: 512, MemoryBudget: 1 << 30, HeadStatsSample: 1, ShutdownTimeout: 30 * time.Second, Version: "dev",
		CaptureSample: 0.01, CaptureTopK: 8, CaptureMax: 1000}
}

func (o *Options) check() error {
	switch {
	case o.MaxBatch < 1:
		return fmt.Errorf("max batch %d must be ≥ 1", o.MaxBatch)
	case o.MaxBatchTokens < 1:
		return fmt.Errorf("max batch tokens %d must be ≥ 1", o.MaxBatchTokens)
	case o.MaxQueueWait < 0:
		return fmt.Errorf("max queue wait %v must be ≥ 0", o.MaxQueueWait)
	case o.MaxQueue < 1:
		return fmt.Errorf("max queue %d must be ≥ 1", o.MaxQueue)
	case o.MaxSeqLen < 0:
		return fmt.Errorf("max seq len %d must be ≥ 0", o.MaxSeqLen)
	case o.MaxTokensCap < 1:
		return fmt.Errorf("max tokens cap %d must be ≥ 1", o.MaxTokensCap)
	case o.MemoryBudget < 1:
		return fmt.Errorf("memory budget %d must be positive", o.MemoryBudget)
	case !(o.HeadStatsSample >= 0 && o.HeadStatsSample <= 1):
		return fmt.Errorf("head stats sample %v must be in [0, 1]", o.HeadStatsSample)
	case !(o.CostPerCPUSecond >= 0) || o.CostPerCPUSecond > 1e12:
		return fmt.Errorf("cost per CPU second %v must be ≥ 0 and finite", o.CostPerCPUSecond)
	case !(o.CaptureSample >= 0 && o.CaptureSample <= 1):
		return fmt.Errorf("capture sample %v must be in [0, 1]", o.CaptureSample)
	case o.CaptureDB != "" && o.CaptureTopK < 1:
		return fmt.Errorf("capture top-k %d must be ≥ 1", o.CaptureTopK)
	case o.CaptureDB != "" && o.CaptureMax < 1:
		return fmt.Errorf("capture max %d must be ≥ 1", o.CaptureMax)
	}
	return nil
}
