package serve

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// stream is a streamed completion being read: the time of its first text
// chunk and of its end, and its text.
type stream struct {
	first    chan time.Time // buffered 1: the first chunk with text arrived
	end      time.Time
	text     strings.Builder
	finished chan struct{} // closed after [DONE] (or a failure)
	err      string
}

// startStream posts req with "stream": true and reads it on a goroutine.
func startStream(t *testing.T, ts *testServer, req map[string]any) *stream {
	t.Helper()
	streamed := map[string]any{"stream": true}
	for k, v := range req {
		streamed[k] = v
	}
	js, _ := json.Marshal(streamed)
	resp, err := http.Post(ts.url+"/v1/completions", "application/json", strings.NewReader(string(js)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	s := &stream{first: make(chan time.Time, 1), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			if data == "[DONE]" {
				s.end = time.Now()
				return
			}
			var ch completionResponse
			if err := json.Unmarshal([]byte(data), &ch); err != nil || len(ch.Choices) != 1 {
				s.err = data
				return
			}
			if s.text.Len() == 0 && ch.Choices[0].Text != "" {
				s.first <- time.Now()
			}
			s.text.WriteString(ch.Choices[0].Text)
		}
		s.err = "no [DONE]"
	}()
	return s
}

// TestContinuousBatching: while a long generation runs, a second request
// joins the running batch: it gets its first token, and finishes, before
// the first request finishes (a static batch would make it wait for the
// whole first generation), and both texts are exactly their solo greedy
// texts (the first one run.c's golden text).
func TestContinuousBatching(t *testing.T) {
	ts := start(t, nil, slow(t, "stories260K", 3*time.Millisecond))
	long := map[string]any{"prompt": "", "max_tokens": 200, "temperature": 0}
	short := map[string]any{"prompt": "Once upon a time, there was a little", "max_tokens": 24, "temperature": 0}

	a := startStream(t, ts, long)
	select {
	case <-a.first:
	case <-time.After(10 * time.Second):
		t.Fatal("no first token of the long request")
	}
	b := startStream(t, ts, short)
	var bFirst time.Time
	select {
	case bFirst = <-b.first:
	case <-a.finished:
		t.Fatal("the long request finished before the second one got a token: no continuous batching")
	case <-time.After(10 * time.Second):
		t.Fatal("no first token of the second request")
	}
	<-b.finished
	<-a.finished
	if a.err != "" || b.err != "" {
		t.Fatalf("streams failed: %q, %q", a.err, b.err)
	}
	if !bFirst.Before(a.end) || !b.end.Before(a.end) {
		t.Errorf("second request: first token at %v, done at %v; the long one done at %v", bFirst, b.end, a.end)
	}
	if got, want := a.text.String(), golden(t); got != want {
		t.Errorf("long request while another joined: %q\nwant %q", got, want)
	}
	status, _, body := ts.post(t, "/v1/completions", short)
	var alone completionResponse
	if err := json.Unmarshal(body, &alone); err != nil || status != http.StatusOK || len(alone.Choices) != 1 {
		t.Fatalf("alone: %d %s", status, body)
	}
	if got := b.text.String(); got != alone.Choices[0].Text || got == "" {
		t.Errorf("joined a running batch: %q\nalone: %q", got, alone.Choices[0].Text)
	}
	// The join step ran two sequences: some batch size above 1.
	lbl := map[string]string{"model": "stories260K"}
	if n, sum := metric(t, ts.reg, "headlight_batch_size", lbl), histogramSum(t, ts.reg, "headlight_batch_size", lbl); sum <= n {
		t.Errorf("batch sizes: %v observations summing to %v, want one of 2", n, sum)
	}
}

// TestInlineHandsOver: a non-streamed request that finds its model idle
// runs on its handler's goroutine (worker.submit); a streamed request that
// arrives meanwhile joins that batch, gets tokens while the inline request
// runs, and is finished by the worker's loop after the inline request
// returns. Every answer equals the golden greedy text, with inline runs on
// and off.
func TestInlineHandsOver(t *testing.T) {
	for _, noInline := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoInline=%v", noInline), func(t *testing.T) {
			ts := start(t, func(o *Options) { o.NoInline = noInline }, slow(t, "stories260K", 2*time.Millisecond))
			quiet := map[string]any{"prompt": "", "max_tokens": 60, "temperature": 0}
			done := make(chan completionResponse, 1)
			js, _ := json.Marshal(quiet)
			go func() {
				var c completionResponse
				if resp, err := http.Post(ts.url+"/v1/completions", "application/json", strings.NewReader(string(js))); err == nil {
					json.NewDecoder(resp.Body).Decode(&c)
					resp.Body.Close()
				}
				done <- c
			}()
			eventually(t, "the quiet request runs", func() bool {
				return metric(t, ts.reg, "headlight_generated_tokens_total", map[string]string{"model": "stories260K"}) > 2
			})
			s := startStream(t, ts, map[string]any{"prompt": "", "max_tokens": 200, "temperature": 0})
			var c completionResponse
			select {
			case <-s.first:
			case c = <-done:
				t.Fatal("the quiet request finished before the streamed one got a token")
			case <-time.After(10 * time.Second):
				t.Fatal("no first token of the streamed request")
			}
			if c.Choices == nil {
				c = <-done
			}
			<-s.finished
			want := golden(t)
			if s.err != "" || s.text.String() != want {
				t.Errorf("streamed request (joined the quiet one's batch, then left alone): err %q, text %q\nwant %q", s.err, s.text.String(), want)
			}
			if len(c.Choices) != 1 || !strings.HasPrefix(want, c.Choices[0].Text) || c.Choices[0].Text == "" || c.Usage["completion_tokens"] != 60 {
				t.Errorf("quiet request: %+v, want the first 60 tokens of %q", c, want)
			}
		})
	}
}
