package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestWeightsFlag: generate and bench generate accept --weights bf16 and
// f16 (the text of the rounded model may differ from the golden one, so
// only that it runs is checked here; internal/model/llama compares logits)
// and reject an unknown type.
func TestWeightsFlag(t *testing.T) {
	for _, w := range []string{"bf16", "f16", "f32"} {
		var out, errb bytes.Buffer
		if code := run([]string{"generate", "--weights", w, "--temperature", "0", "--max-tokens", "20", "Once"}, &out, &errb); code != 0 || len(strings.TrimSpace(out.String())) == 0 {
			t.Errorf("generate --weights %s: exit %d, stdout %q, stderr %s", w, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "generate", "--weights", "bf16", "--positions", "8", "--prefill", "4", "--reps", "1", "--json"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "bf16 weights") {
		t.Errorf("bench generate --weights bf16: exit %d, stdout %q, stderr %s", code, out.String(), errb.String())
	}
	for _, args := range [][]string{{"generate", "--weights", "int4", "hi"}, {"bench", "generate", "--weights", "q8"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--weights") {
			t.Errorf("%v: exit %d, stderr %q: want exit 2 naming --weights", args, code, errb.String())
		}
	}
}
