package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// golden is llama2.c run.c's greedy 200-token text of the embedded model.
func golden(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../assets/stories260K/greedy-200.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type completionResponse struct {
	ID, Object, Model string
	Created           int64
	Choices           []struct {
		Text         string
		Index        int
		FinishReason *string `json:"finish_reason"`
	}
	Usage map[string]int
}

// TestCompletionGolden: greedy decoding from an empty prompt through the
// server, whole and streamed, is exactly run.c's golden text.
func TestCompletionGolden(t *testing.T) {
	ts := start(t, nil)
	want := golden(t)
	req := map[string]any{"model": "stories260K", "prompt": "", "max_tokens": 200, "temperature": 0}
	status, _, body := ts.post(t, "/v1/completions", req)
	var c completionResponse
	if err := json.Unmarshal(body, &c); err != nil || status != http.StatusOK {
		t.Fatalf("status %d, %s (%v)", status, body, err)
	}
	if len(c.Choices) != 1 || c.Choices[0].Text != want {
		t.Fatalf("choices %+v\nwant text %q", c.Choices, want)
	}
	if c.Object != "text_completion" || !strings.HasPrefix(c.ID, "cmpl-") || c.Model != "stories260K" || c.Created == 0 ||
		*c.Choices[0].FinishReason != "length" || c.Usage["prompt_tokens"] != 1 || c.Usage["completion_tokens"] != 200 || c.Usage["total_tokens"] != 201 {
		t.Errorf("response fields: %s", body)
	}

	req["stream"] = true
	req["stream_options"] = map[string]bool{"include_usage": true}
	js, _ := json.Marshal(req)
	resp, err := http.Post(ts.url+"/v1/completions", "application/json", strings.NewReader(string(js)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("stream: status %d, content type %q", resp.StatusCode, ct)
	}
	events, done := sseEvents(t, resp.Body)
	if !done || len(events) < 3 {
		t.Fatalf("stream: %d events, [DONE] %v", len(events), done)
	}
	var text strings.Builder
	var finish string
	for i, ev := range events {
		var ch completionResponse
		if err := json.Unmarshal([]byte(ev), &ch); err != nil || ch.Object != "text_completion" || ch.ID != events0ID(t, events) {
			t.Fatalf("chunk %d: %s (%v)", i, ev, err)
		}
		if i == len(events)-1 { // the usage chunk
			if len(ch.Choices) != 0 || ch.Usage["completion_tokens"] != 200 {
				t.Errorf("usage chunk: %s", ev)
			}
			continue
		}
		if len(ch.Choices) != 1 {
			t.Fatalf("chunk %d: %s", i, ev)
		}
		text.WriteString(ch.Choices[0].Text)
		if fr := ch.Choices[0].FinishReason; fr != nil {
			if i != len(events)-2 {
				t.Errorf("finish_reason on chunk %d of %d", i, len(events))
			}
			finish = *fr
		}
	}
	if text.String() != want || finish != "length" {
		t.Fatalf("streamed text (finish %q) %q\nwant %q", finish, text.String(), want)
	}
}

func events0ID(t *testing.T, events []string) string {
	var c completionResponse
	if err := json.Unmarshal([]byte(events[0]), &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestStopStrings: a stop string ends the text just before it, also when
// it spans tokens, with finish_reason "stop".
func TestStopStrings(t *testing.T) {
	ts := start(t, nil)
	want := golden(t)
	for _, stop := range []any{"Lily", []string{"zzz", "park."}, "a big, red"} {
		first := ""
		switch s := stop.(type) {
		case string:
			first = s
		case []string:
			first = s[1]
		}
		cut := want[:strings.Index(want, first)]
		for _, stream := range []bool{false, true} {
			status, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": "", "max_tokens": 200, "temperature": 0, "stop": stop, "stream": stream})
			if status != http.StatusOK {
				t.Fatalf("stop %v: %d %s", stop, status, body)
			}
			text, finish := "", ""
			if stream {
				events, _ := sseEvents(t, strings.NewReader(string(body)))
				for _, ev := range events {
					var ch completionResponse
					_ = json.Unmarshal([]byte(ev), &ch)
					text += ch.Choices[0].Text
					if ch.Choices[0].FinishReason != nil {
						finish = *ch.Choices[0].FinishReason
					}
				}
			} else {
				var c completionResponse
				_ = json.Unmarshal(body, &c)
				text, finish = c.Choices[0].Text, *c.Choices[0].FinishReason
			}
			if text != cut || finish != "stop" {
				t.Errorf("stop %v (stream %v): %q finish %q, want %q", stop, stream, text, finish, cut)
			}
		}
	}
}

// TestConcurrentEqualsAlone: requests of different prompt lengths and
// sampling settings sent together are batched, and each gets exactly the
// text it gets alone.
func TestConcurrentEqualsAlone(t *testing.T) {
	ts := start(t, func(o *Options) { o.MaxQueueWait = 100 * time.Millisecond; o.MaxBatch = 4 })
	reqs := []map[string]any{
		{"prompt": "Once upon a time", "max_tokens": 30, "temperature": 0},
		{"prompt": "", "max_tokens": 45, "temperature": 0},
		{"prompt": "The little dog ran to the park and saw a big", "max_tokens": 12, "temperature": 0},
		{"prompt": "Lily", "max_tokens": 25, "temperature": 0.9, "top_p": 0.9, "seed": 5},
		{"prompt": "Tom had a red", "max_tokens": 20, "temperature": 1, "top_k": 10, "seed": 7},
		{"prompt": "One day", "max_tokens": 33, "temperature": 0.5, "seed": 11},
	}
	text := func(body []byte) string {
		var c completionResponse
		if err := json.Unmarshal(body, &c); err != nil || len(c.Choices) != 1 {
			t.Fatalf("%s", body)
		}
		return c.Choices[0].Text
	}
	together := make([]string, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			status, _, body := ts.post(t, "/v1/completions", r)
			if status != http.StatusOK {
				t.Errorf("request %d: %d %s", i, status, body)
				return
			}
			together[i] = text(body)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The batch size is observed at each step where sequences join (as the
	// number of live sequences). With continuous batching the six may join
	// over several steps, but unless they ran together some observation
	// exceeds 1: the sum of sizes is above the number of observations.
	lbl := map[string]string{"model": "stories260K"}
	count, sum := metric(t, ts.reg, "headlight_batch_size", lbl), histogramSum(t, ts.reg, "headlight_batch_size", lbl)
	if sum <= count {
		t.Errorf("batch sizes sum to %v over %v join steps: the six requests never ran together", sum, count)
	}
	for i, r := range reqs {
		_, _, body := ts.post(t, "/v1/completions", r)
		if alone := text(body); alone != together[i] {
			t.Errorf("request %d: together %q\nalone %q", i, together[i], alone)
		}
	}
}

// TestModels lists the served models.
func TestModels(t *testing.T) {
	ts := start(t, nil, loadDefault(t), slow(t, "second", 0))
	resp, err := http.Get(ts.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Object string
		Data   []struct {
			ID, Object string
			Layers     int
			Heads      int
			MaxSeqLen  int `json:"max_seq_len"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(out)
	if out.Object != "list" || len(out.Data) != 2 || out.Data[0].ID != "stories260K" || out.Data[1].ID != "second" ||
		out.Data[0].Object != "model" || out.Data[0].Layers != 5 || out.Data[0].Heads != 8 || out.Data[0].MaxSeqLen != 512 {
		t.Errorf("models: %s", got)
	}
	// A request naming the second model is served by it.
	status, _, body := ts.post(t, "/v1/completions", map[string]any{"model": "second", "prompt": "", "max_tokens": 20, "temperature": 0})
	var c completionResponse
	if err := json.Unmarshal(body, &c); err != nil || status != http.StatusOK || c.Model != "second" || !strings.HasPrefix(golden(t), c.Choices[0].Text) {
		t.Errorf("second model: %d %s", status, body)
	}
}
