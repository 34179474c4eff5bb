package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBenchJSON: --json prints one object per case with the fields scripts read.
func TestBenchJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"bench", "attention", "--json", "--shapes", "1x40,2x33", "--d-model", "64", "--heads", "4", "--min-time", "1ms", "--warmup", "1ms", "--reps", "1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	n := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"op", "batch", "seq", "d_model", "heads", "causal", "stats", "threads", "ms", "gflops"} {
			if _, ok := r[k]; !ok {
				t.Errorf("line %q lacks %q", sc.Text(), k)
			}
		}
		if g, _ := r["gflops"].(float64); !(g > 0) {
			t.Errorf("gflops %v", r["gflops"])
		}
		n++
	}
	if n != 2*2*2*2 { // 2 ops × 2 shapes × causal on/off × stats on/off
		t.Errorf("%d result lines, want 16", n)
	}
	out.Reset()
	prof := filepath.Join(t.TempDir(), "gen.prof")
	if code := run([]string{"bench", "generate", "--json", "--positions", "20", "--prefill", "8", "--reps", "1", "--warmup", "1ms", "--cpuprofile", prof}, &out, &errb); code != 0 {
		t.Fatalf("bench generate exit %d: %s", code, errb.String())
	}
	var g map[string]any
	if err := json.Unmarshal(out.Bytes(), &g); err != nil || !(g["decode_tok_s"].(float64) > 0) {
		t.Fatalf("bench generate printed %q (%v)", out.String(), err)
	}
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // pprof: gzipped protobuf
		t.Errorf("--cpuprofile wrote no pprof file: %v, %d bytes", err, len(b))
	}
	if run([]string{"bench", "generate", "--reps", "1", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "p")}, &out, &errb) == 0 {
		t.Error("bench generate with an unwritable --cpuprofile succeeded")
	}
	for _, bad := range [][]string{{"bench"}, {"bench", "attention", "--shapes", "1y3"}, {"bench", "attention", "--heads", "5"}, {"bench", "attention", "--causal", "maybe"}} {
		if run(bad, &out, &errb) == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
}
