package loadgen

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConn: the one-goroutine client sends well-formed requests that
// net/http's server parses, keeps the connection alive across requests,
// reads bodies of both framings (Content-Length and chunked), and reports
// error statuses with the server's message.
func TestConn(t *testing.T) {
	var conns int
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/v1/completions" || r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "bad request line or headers", http.StatusBadRequest)
		case strings.Contains(string(b), `"max_tokens":3`):
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"error":{"message":"too many","code":"x"}}`)
		case strings.Contains(string(b), `"max_tokens":2`):
			w.(http.Flusher).Flush() // chunked
			io.WriteString(w, `{"choices":[{"text":"two"}],"usage":{"completion_tokens":2}}`)
		default:
			io.WriteString(w, `{"choices":[{"text":"one"}],"usage":{"completion_tokens":1}}`)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns++
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := dial(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		max  int
		text string
		n    int
	}{{1, "one", 1}, {2, "two", 2}, {1, "one", 1}} {
		text, n, err := c.complete(ctx, Config{}, Item{Prompt: "p", MaxTokens: tc.max})
		if err != nil || text != tc.text || n != tc.n {
			t.Fatalf("max %d: %q %d %v", tc.max, text, n, err)
		}
	}
	if _, _, err := c.complete(ctx, Config{}, Item{Prompt: "p", MaxTokens: 3}); err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("error status: %v", err)
	}
	if conns != 1 {
		t.Fatalf("%d connections, want 1 (keep-alive)", conns)
	}
	if _, err := dial("http://example.com:80"); err == nil {
		t.Fatal("dialled a non-loopback address")
	}
}
