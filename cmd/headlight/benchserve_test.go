package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchServe(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"serve", "--requests", "12", "--duration", "60s", "--concurrency", "3", "--stream",
		"--overhead-runs", "2", "--overhead-items", "3", "--threads", "1", "--json"}
	if code := runBench(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep benchServeReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	l := rep.Load
	if l.Requests != 12 || l.OK != 12 || l.Errors != 0 || l.GeneratedTokens <= 0 || l.PromptTokens < 12*2 || l.TTFT == nil {
		t.Errorf("load summary %+v", l)
	}
	if !(l.TokensPerSec > 0 && l.RequestsPerSec > 0 && l.Latency.P50 > 0 && l.Latency.P99 >= l.Latency.P50 && l.TTFT.P50 <= l.Latency.P50) {
		t.Errorf("figures %+v", l)
	}
	o := rep.Overhead
	if o == nil || len(o.Runs) != 2 || o.Runs[0].Order == o.Runs[1].Order || !(o.MedianRatio > 0) {
		t.Fatalf("overhead %+v", o)
	}
	for _, r := range o.Runs {
		if r.ServerTokens != r.EngineTokens || r.ServerTokens <= 0 {
			t.Errorf("run %+v: server and engine generated different token counts", r)
		}
	}

	tp := rep.Throughput
	if tp == nil || len(tp.Runs) != 2 || tp.Runs[0].First == tp.Runs[1].First || tp.Clients != 2 || tp.Items != 3 || !(tp.MedianRatio > 0) {
		t.Fatalf("throughput at batch 1 %+v", tp)
	}

	out.Reset()
	if code := runBench([]string{"serve", "--requests", "2", "--overhead-runs", "0"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "latency p50/p95/p99") || strings.Contains(out.String(), "overhead") {
		t.Errorf("table: exit %d\n%s", code, out.String())
	}
}

func TestBenchServeRefusesRemote(t *testing.T) {
	for _, addr := range []string{"10.0.0.1:8080", "example.com:80", "0.0.0.0:8080"} {
		var out, errb bytes.Buffer
		if code := runBench([]string{"serve", "--addr", addr}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "not loopback") {
			t.Errorf("--addr %s: exit %d, stderr %q; want 2 and a loopback refusal", addr, code, errb.String())
		}
	}
}
