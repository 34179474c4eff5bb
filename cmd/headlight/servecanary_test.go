package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServe runs serveMain with args until the test ends and waits for
// /readyz; it returns the base URL and a function that stops the server
// and returns its exit code.
func startServe(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	code := make(chan int, 1)
	var out, errb bytes.Buffer
	args = append([]string{"--addr", "127.0.0.1:0", "--threads", "2", "--log-level", "warn"}, args...)
	go func() { code <- serveMain(ctx, args, &out, &errb, func(a string) { addr <- a }) }()
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case c := <-code:
		stopped = true
		t.Fatalf("exited %d: %s", c, errb.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready")
		}
	}
}

// modelIDs is the ids /v1/models lists.
func modelIDs(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var models struct{ Data []struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&models); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID)
	}
	return ids
}

// TestServeCanary: two versions of one model with a canary from
// $HEADLIGHT_CANARY; a request pinned to a version is answered by it.
func TestServeCanary(t *testing.T) {
	t.Setenv("HEADLIGHT_CANARY", "s=v2:0.5")
	base, stop := startServe(t, "--model", "s@v1=", "--model", "s@v2=stories260K")
	if ids := strings.Join(modelIDs(t, base), ","); ids != "s@v1,s@v2" {
		t.Errorf("models: %s", ids)
	}
	seen := map[string]bool{}
	for _, m := range []string{"s@v2", "s@v1", "s"} {
		resp, err := http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"model": "`+m+`", "prompt": "Hi", "max_tokens": 1, "user": "u"}`))
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Model string }
		json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if m != "s" && c.Model != m {
			t.Errorf("pinned %s: answered by %q", m, c.Model)
		}
		seen[c.Model] = true
	}
	if len(seen) != 2 {
		t.Errorf("answered by %v", seen)
	}
	if c := stop(); c != 0 {
		t.Errorf("exit %d", c)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--canary", "s=v2"}, 2},
		{[]string{"--canary", "s=v2:7"}, 2},
		{[]string{"--model", "s@v1=", "--canary", "s=v2:0.5", "--addr", "127.0.0.1:0"}, 1},
	} {
		var out, errb bytes.Buffer
		if code := serveMain(context.Background(), c.args, &out, &errb, nil); code != c.code || !strings.Contains(errb.String(), "canary") {
			t.Errorf("%v: exit %d (%q), want %d naming the canary", c.args, code, errb.String(), c.code)
		}
	}
}
