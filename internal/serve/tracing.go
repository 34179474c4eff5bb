package serve

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the server's spans.
const tracerName = "github.com/headlight/headlight/internal/serve"

// Span attributes (see doc.go, Tracing).
const (
	attrModel            = attribute.Key("headlight.model")
	attrModelVersion     = attribute.Key("headlight.model.version")
	attrPromptTokens     = attribute.Key("headlight.prompt_tokens")
	attrCompletionTokens = attribute.Key("headlight.completion_tokens")
	attrBatchSize        = attribute.Key("headlight.batch_size")
	attrPaddedTokens     = attribute.Key("headlight.padded_prompt_tokens")
	attrInputs           = attribute.Key("headlight.inputs")
)

// propagator reads a caller's W3C traceparent, so the server span joins
// the caller's trace.
var propagator = propagation.TraceContext{}

// startRequestSpan starts the server span of an HTTP request and returns
// the request carrying it.
func (s *Server) startRequestSpan(r *http.Request, endpoint string) (*http.Request, trace.Span) {
	ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, sp := s.tracer.Start(ctx, r.Method+" "+endpoint, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", endpoint)))
	return r.WithContext(ctx), sp
}

// endRequestSpan records what the handler learnt and ends the span.
func (s *Server) endRequestSpan(sp trace.Span, rec *recorder) {
	if !sp.IsRecording() {
		sp.End()
		return
	}
	sp.SetAttributes(attribute.Int("http.response.status_code", rec.status))
	if rec.model != "" {
		sp.SetAttributes(attrModel.String(rec.model), attrModelVersion.String(rec.version),
			attrPromptTokens.Int(rec.ptoks), attrCompletionTokens.Int(rec.ctoks))
	}
	if rec.status >= 500 {
		sp.SetStatus(codes.Error, http.StatusText(rec.status))
	}
	sp.End()
}

// modelVersion is the configured version of a model ("unversioned").
func (s *Server) modelVersion(name string) string {
	if v := s.opts.ModelVersions[name]; v != "" {
		return v
	}
	return unversioned
}

// traceBatchStart records, for each job about to start in a batch of size
// sequences, its queue span (enqueue → start) and the batch size on its
// request span.
func (w *worker) traceBatchStart(jobs []*job, size int, start time.Time) {
	for _, j := range jobs {
		if j.warm {
			continue
		}
		root := trace.SpanFromContext(j.ctx)
		if !root.IsRecording() {
			continue
		}
		root.SetAttributes(attrBatchSize.Int(size))
		_, qs := w.tracer.Start(j.ctx, "queue", trace.WithTimestamp(j.enqueued))
		qs.End(trace.WithTimestamp(start))
	}
}

// tracePrefill records each job's prefill span (the step's shared forward
// pass in a batch of size sequences, start → end) and starts its decode
// span at end. decode[b] is nil for jobs that are not traced.
func (w *worker) tracePrefill(jobs []*job, size int, start, end time.Time, padded int, decode []trace.Span) {
	for b, j := range jobs {
		if j.warm || !trace.SpanFromContext(j.ctx).IsRecording() {
			continue
		}
		_, ps := w.tracer.Start(j.ctx, "prefill", trace.WithTimestamp(start), trace.WithAttributes(
			attrModel.String(w.name), attrModelVersion.String(w.version), attrPromptTokens.Int(len(j.prompt)),
			attrBatchSize.Int(size), attrPaddedTokens.Int(padded)))
		ps.End(trace.WithTimestamp(end))
		if decode != nil {
			_, decode[b] = w.tracer.Start(j.ctx, "decode", trace.WithTimestamp(end),
				trace.WithAttributes(attrModel.String(w.name), attrBatchSize.Int(size)))
		}
	}
}

// endDecode ends a job's decode span (nil: not traced) with the tokens it
// generated and its error.
func endDecode(sp trace.Span, tokens int, err error) {
	if sp == nil {
		return
	}
	sp.SetAttributes(attrCompletionTokens.Int(tokens))
	if err != nil {
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
}

// traceID is the trace of ctx's span ("" without one).
func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}
