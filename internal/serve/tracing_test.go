package serve

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func attrs(kv []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range kv {
		m[a.Key] = a.Value
	}
	return m
}

// TestTraceSpans: a completion request gives one server span, in the
// caller's trace, with children tokenize, queue, prefill, decode and
// detokenize carrying the model, version, sequence length, batch size and
// completion tokens; the access log line has the trace and span ids; the
// warm-up makes no spans.
func TestTraceSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(t.Context())
	var logs syncBuffer
	ts := start(t, func(o *Options) {
		o.TracerProvider = tp
		o.ModelVersions = map[string]string{"stories260K": "v7"}
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("warm-up made %d spans", n)
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", ts.url+"/v1/completions", strings.NewReader(`{"prompt": "Once upon a time", "max_tokens": 6, "temperature": 0}`))
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var c completionResponse
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if resp.StatusCode != 200 || c.Usage["completion_tokens"] != 6 {
		t.Fatalf("completion: %d %+v", resp.StatusCode, c)
	}
	var root tracetest.SpanStub
	eventually(t, "server span ended", func() bool {
		for _, s := range exp.GetSpans() {
			if s.Name == "POST /v1/completions" {
				root = s
				return true
			}
		}
		return false
	})
	if root.SpanKind != trace.SpanKindServer || root.SpanContext.TraceID().String() != traceID || root.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("server span: kind %v, trace %v, parent %v; want the caller's trace", root.SpanKind, root.SpanContext.TraceID(), root.Parent.SpanID())
	}
	ra := attrs(root.Attributes)
	if ra[attrModel].AsString() != "stories260K" || ra[attrModelVersion].AsString() != "v7" || ra[attrPromptTokens].AsInt64() != 5 ||
		ra[attrCompletionTokens].AsInt64() != 6 || ra[attrBatchSize].AsInt64() != 1 || ra["http.response.status_code"].AsInt64() != 200 {
		t.Errorf("server span attributes: %v", root.Attributes)
	}
	children := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		if s.Name == root.Name {
			continue
		}
		if s.Parent.SpanID() != root.SpanContext.SpanID() || s.SpanContext.TraceID() != root.SpanContext.TraceID() {
			t.Errorf("span %q: parent %v, want the server span %v", s.Name, s.Parent.SpanID(), root.SpanContext.SpanID())
		}
		if _, dup := children[s.Name]; dup {
			t.Errorf("two %q spans", s.Name)
		}
		children[s.Name] = s
	}
	for _, name := range []string{"tokenize", "queue", "prefill", "decode", "detokenize"} {
		s, ok := children[name]
		if !ok {
			t.Errorf("no %q span (have %v)", name, len(children))
			continue
		}
		if s.EndTime.Before(s.StartTime) || s.StartTime.Before(root.StartTime) || s.EndTime.After(root.EndTime) {
			t.Errorf("span %q [%v, %v] outside the server span [%v, %v]", name, s.StartTime, s.EndTime, root.StartTime, root.EndTime)
		}
	}
	if len(children) != 5 {
		t.Errorf("%d child spans, want 5", len(children))
	}
	pa := attrs(children["prefill"].Attributes)
	if pa[attrModel].AsString() != "stories260K" || pa[attrModelVersion].AsString() != "v7" || pa[attrPromptTokens].AsInt64() != 5 || pa[attrBatchSize].AsInt64() != 1 {
		t.Errorf("prefill attributes: %v", children["prefill"].Attributes)
	}
	if got := attrs(children["decode"].Attributes)[attrCompletionTokens].AsInt64(); got != 6 {
		t.Errorf("decode span: %d completion tokens", got)
	}
	if got := attrs(children["tokenize"].Attributes)[attrPromptTokens].AsInt64(); got != 5 {
		t.Errorf("tokenize span: %d prompt tokens", got)
	}
	if children["queue"].EndTime.After(children["prefill"].StartTime) || children["prefill"].EndTime.After(children["decode"].StartTime) {
		t.Errorf("queue, prefill and decode overlap")
	}
	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line["trace_id"] != traceID || line["span_id"] != root.SpanContext.SpanID().String() {
		t.Errorf("access log line without the span: %v", line)
	}
	if strings.Contains(logs.String(), "Once upon") {
		t.Error("the prompt text was logged")
	}
}
