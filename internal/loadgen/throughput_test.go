package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
)

// TestMeasureChecksAnswers: both batch-1 measurements refuse a server whose
// answer differs from the engine's greedy generation of the same request,
// naming the request and both texts.
func TestMeasureChecksAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"choices":[{"text":" not the model's words"}],"usage":{"completion_tokens":4}}`)
	}))
	defer srv.Close()
	ld, err := engine.Load("", "", attention.NewEngine(kernels.NewPool(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	items := []Item{{Prompt: "Once upon a time", MaxTokens: 4}}
	if _, err := MeasureThroughput(context.Background(), srv.URL, ld, items, 1, 2); err == nil || !strings.Contains(err.Error(), "not the model's words") {
		t.Errorf("throughput: %v, want a mismatch error", err)
	}
	if _, err := MeasureOverhead(context.Background(), srv.URL, ld, items, 1); err == nil || !strings.Contains(err.Error(), "not the model's words") {
		t.Errorf("overhead: %v, want a mismatch error", err)
	}
	if _, err := MeasureThroughput(context.Background(), srv.URL, ld, items, 1, 0); err == nil {
		t.Error("0 clients accepted")
	}
}
