package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/prometheus/client_golang/prometheus"
)

// testServer is a real server on a loopback port.
type testServer struct {
	*Server
	url  string
	reg  *prometheus.Registry
	stop context.CancelFunc
	done chan error // Serve's result
}

// loadDefault loads the embedded stories260K.
func loadDefault(t testing.TB) *engine.Loaded {
	t.Helper()
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	ld, err := engine.Load("", "", attention.NewEngine(pool))
	if err != nil {
		t.Fatal(err)
	}
	return ld
}

// slowDecoder delays every forward pass, so that tests can act while a
// batch is running.
type slowDecoder struct {
	model.Decoder
	delay time.Duration
}

func (s slowDecoder) Forward(st *model.State, tokens []int, seq int, lens []int, lastOnly bool) ([]float32, error) {
	time.Sleep(s.delay)
	return s.Decoder.Forward(st, tokens, seq, lens, lastOnly)
}

// slow is the embedded model named name, delayed by d per forward pass.
func slow(t testing.TB, name string, d time.Duration) *engine.Loaded {
	ld := loadDefault(t)
	return &engine.Loaded{Name: name, Model: slowDecoder{ld.Model, d}, Tokenizer: ld.Tokenizer}
}

// start serves models on 127.0.0.1:0 with opts changed by edit, and waits
// until /readyz answers 200. The server is shut down at the end of the test.
func start(t testing.TB, edit func(*Options), models ...*engine.Loaded) *testServer {
	t.Helper()
	opts := Defaults()
	opts.ShutdownTimeout = 10 * time.Second
	if edit != nil {
		edit(&opts)
	}
	if len(models) == 0 {
		models = []*engine.Loaded{loadDefault(t)}
	}
	reg := prometheus.NewRegistry()
	srv, err := New(opts, models, reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, url: "http://" + ln.Addr().String(), reg: reg, stop: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(ts.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return ts
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 10s (last: %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// post sends body as JSON and returns the status, headers and body.
func (ts *testServer) post(t testing.TB, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	resp, err := http.Post(ts.url+path, "application/json", rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// errorBody is the JSON error shape.
type errorBody struct {
	Error struct {
		Message, Type, Code string
	}
}

// wantError checks status and error code of an answer.
func wantError(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || status != wantStatus || e.Error.Code != wantCode || e.Error.Message == "" || e.Error.Type == "" {
		t.Errorf("%s: status %d body %s; want %d with code %q", what, status, body, wantStatus, wantCode)
	}
}

// sseEvents reads "data: ..." events until [DONE] or EOF.
func sseEvents(t *testing.T, r io.Reader) (events []string, done bool) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		if data == "[DONE]" {
			return events, true
		}
		events = append(events, data)
	}
	return events, false
}

// metric is the sum over the series name{labels…} in reg (labels not
// named may have any value) of a counter's or gauge's value or a
// histogram's sample count; -1 if there is none.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.GetHistogram() != nil:
				sum, found = sum+float64(m.GetHistogram().GetSampleCount()), true
			case m.GetCounter() != nil:
				sum, found = sum+m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				sum, found = sum+m.GetGauge().GetValue(), true
			}
		}
	}
	if !found {
		return -1
	}
	return sum
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 5s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
