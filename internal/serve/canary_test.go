package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// versioned is the embedded model loaded as "name@version".
func versioned(t testing.TB, id string) *engine.Loaded {
	ld := loadDefault(t)
	ld.Name = id
	return ld
}

// servedBy posts a one-token completion for model with the user field
// (and X-Request-Key header, if not empty) and returns the model reported.
func (ts *testServer) servedBy(t *testing.T, model, user, header string) string {
	t.Helper()
	body := map[string]any{"model": model, "prompt": "Once", "max_tokens": 1, "temperature": 0}
	if user != "" {
		body["user"] = user
	}
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", ts.url+"/v1/completions", bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set("X-Request-Key", header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var c completion
	if resp.StatusCode != 200 || json.Unmarshal(b, &c) != nil {
		t.Fatalf("model %q user %q: status %d body %s", model, user, resp.StatusCode, b)
	}
	return c.Model
}

func TestCanarySplit(t *testing.T) {
	ts := start(t, func(o *Options) { o.Canaries = []Canary{{Model: "stories", Version: "v2", Weight: 0.5}} },
		versioned(t, "stories@v1"), versioned(t, "stories@v2"))
	first := map[string]string{}
	count := map[string]int{}
	for i := range 200 {
		user := fmt.Sprintf("user-%d", i)
		got := ts.servedBy(t, "stories", user, "")
		if got != "stories@v1" && got != "stories@v2" {
			t.Fatalf("user %s served by %q", user, got)
		}
		first[user] = got
		count[got]++
	}
	for v, n := range count {
		if n < 60 || n > 140 {
			t.Errorf("%s got %d of 200 users, want 30–70%%", v, n)
		}
	}
	if len(count) != 2 {
		t.Errorf("versions served: %v, want both", count)
	}
	// The same user (in the body or, without one, in X-Request-Key) always
	// sees the same version; the default model ("") is routed the same way.
	for i := range 40 {
		user := fmt.Sprintf("user-%d", i)
		if got := ts.servedBy(t, "stories", user, "other-key"); got != first[user] {
			t.Errorf("user %s: %s, then %s", user, first[user], got)
		}
		if got := ts.servedBy(t, "", "", user); got != first[user] {
			t.Errorf("X-Request-Key %s: %s, but the user field gave %s", user, got, first[user])
		}
	}
	// name@version pins a version, whatever the key.
	for i := range 10 {
		for _, v := range []string{"stories@v1", "stories@v2"} {
			if got := ts.servedBy(t, v, fmt.Sprintf("user-%d", i), ""); got != v {
				t.Errorf("pinned %s: served by %s", v, got)
			}
		}
	}
	for _, v := range []string{"v1", "v2"} {
		lbl := map[string]string{"model": "stories", "version": v}
		if n := metric(t, ts.reg, "headlight_generated_tokens_total", lbl); n < 1 {
			t.Errorf("generated tokens of %s: %v", v, n)
		}
		if n := metric(t, ts.reg, "headlight_request_duration_seconds", map[string]string{"model": "stories", "version": v, "code": "200"}); n < 1 {
			t.Errorf("request durations of %s: %v", v, n)
		}
		if n := metric(t, ts.reg, "headlight_attention_entropy_nats", lbl); n < 1 {
			t.Errorf("head entropy of %s: %v", v, n)
		}
	}
	st, _, body := ts.post(t, "/v1/completions", map[string]any{"model": "stories@v3", "prompt": "x", "max_tokens": 1})
	wantError(t, "unknown version", st, body, 404, "model_not_found")
}

func TestParseCanary(t *testing.T) {
	c, err := ParseCanary("stories=v2:0.1")
	if err != nil || c != (Canary{Model: "stories", Version: "v2", Weight: 0.1}) {
		t.Errorf("ParseCanary: %+v, %v", c, err)
	}
	for _, bad := range []string{"stories", "stories=v2", "=v2:0.1", "stories=:0.5", "stories=v2:1.5", "stories=v2:x", "stories=v2:-0.1"} {
		if _, err := ParseCanary(bad); err == nil {
			t.Errorf("ParseCanary(%q) accepted", bad)
		}
	}
}

func TestCanaryOptionErrors(t *testing.T) {
	for _, c := range []struct {
		canary Canary
		want   string
	}{
		{Canary{"nope", "v2", 0.1}, "not served"},
		{Canary{"stories", "v9", 0.1}, "no version"},
		{Canary{"stories", "v1", 0.1}, "stable"},
		{Canary{"stories", "v2", 2}, "weight"},
	} {
		opts := Defaults()
		opts.Canaries = []Canary{c.canary}
		s, err := New(opts, []*engine.Loaded{versioned(t, "stories@v1"), versioned(t, "stories@v2")}, prometheus.NewRegistry())
		if err == nil {
			s.Close()
			t.Errorf("canary %+v accepted", c.canary)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("canary %+v: %v, want it to mention %q", c.canary, err, c.want)
		}
	}
}

func TestKeyFraction(t *testing.T) {
	// FNV-1a 64 of "" is the offset basis cbf29ce484222325.
	if got, want := keyFraction(""), float64(uint64(0xcbf29ce484222325)>>11)/(1<<53); got != want {
		t.Errorf("keyFraction(\"\") = %v, want %v", got, want)
	}
	for _, k := range []string{"a", "user-1", strings.Repeat("z", 1000)} {
		if f := keyFraction(k); !(f >= 0 && f < 1) || f != keyFraction(k) {
			t.Errorf("keyFraction(%q) = %v", k, f)
		}
	}
}
