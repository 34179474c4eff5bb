package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestTracerProviderFromEnv: no exporter without the OTLP endpoint
// variables; an SDK provider with one.
func TestTracerProviderFromEnv(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tp, shutdown, err := NewTracerProvider(context.Background(), "headlight", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, sdk := tp.(*sdktrace.TracerProvider); sdk || TracingEnabled() {
		t.Errorf("tracing on with no endpoint: %T", tp)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(v, "http://127.0.0.1:1")
			tp, shutdown, err := NewTracerProvider(context.Background(), "headlight", "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, sdk := tp.(*sdktrace.TracerProvider); !sdk {
				t.Errorf("%s set: %T, want the SDK provider", v, tp)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, _, err := NewTracerProvider(context.Background(), "headlight", "test"); err == nil {
		t.Error("grpc protocol accepted")
	}
}

// TestTraceLogHandler: records logged with a span's context carry its ids;
// others do not.
func TestTraceLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(TraceLogHandler(slog.NewJSONHandler(&buf, nil))).With("k", 1)
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2}, SpanID: trace.SpanID{3}, TraceFlags: trace.FlagsSampled})
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), sc), "with")
	log.Info("without")
	dec := json.NewDecoder(&buf)
	var with, without map[string]any
	if dec.Decode(&with) != nil || dec.Decode(&without) != nil {
		t.Fatalf("log: %s", buf.String())
	}
	if with["trace_id"] != sc.TraceID().String() || with["span_id"] != sc.SpanID().String() || with["k"] != 1.0 {
		t.Errorf("record with a span: %v", with)
	}
	if _, ok := without["trace_id"]; ok {
		t.Errorf("record without a span: %v", without)
	}
}
