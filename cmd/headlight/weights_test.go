package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/kernels"
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
	if code := run([]string{"bench", "generate", "--weights", "bf16", "--positions", "8", "--prefill", "4", "--reps", "1", "--warmup", "1ms", "--json"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "bf16 weights") {
		t.Errorf("bench generate --weights bf16: exit %d, stdout %q, stderr %s", code, out.String(), errb.String())
	}
	for _, args := range [][]string{{"generate", "--weights", "int4", "hi"}, {"bench", "generate", "--weights", "q8"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--weights") {
			t.Errorf("%v: exit %d, stderr %q: want exit 2 naming --weights", args, code, errb.String())
		}
	}
}

// TestWeightsBF16Dot: --weights bf16dot runs where the kernels have AVX-512
// BF16 and is refused with a message naming the paths elsewhere (here by
// switching the kernels to avx2).
func TestWeightsBF16Dot(t *testing.T) {
	args := []string{"generate", "--weights", "bf16dot", "--temperature", "0", "--max-tokens", "20", "Once upon a time"}
	if kernels.HasBF16Dot() {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 || len(strings.TrimSpace(out.String())) == 0 {
			t.Errorf("generate --weights bf16dot: exit %d, stdout %q, stderr %s", code, out.String(), errb.String())
		}
	}
	saved := kernels.Impl()
	defer func() { _ = kernels.Use(saved) }()
	if err := kernels.Use("avx2"); err != nil {
		t.Skip("no avx2 path here:", err)
	}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "bf16dot needs AVX-512 BF16") {
		t.Errorf("generate --weights bf16dot on avx2: exit %d, stderr %q", code, errb.String())
	}
}
