package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGenerateGolden: `headlight generate --temperature 0 --max-tokens 200 ""`
// on the embedded model prints exactly llama2.c run.c's greedy text.
func TestGenerateGolden(t *testing.T) {
	want, err := os.ReadFile("../../assets/stories260K/greedy-200.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"generate", "--temperature", "0", "--max-tokens", "200", ""}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got := out.String(); got != string(want)+"\n" {
		t.Fatalf("generate printed\n%q\nwant\n%q", got, want)
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "--model", "/nonexistent/model.bin", "hi"},
		{"generate", "--temperature", "-1", "hi"},
		{"generate", "a", "b"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code == 0 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q: want a failure with a message", args, code, errb.String())
		}
	}
}

// TestConvertThenGenerate: `headlight convert` writes the embedded model as
// GGUF and `headlight generate --model FILE.gguf` prints the golden text.
func TestConvertThenGenerate(t *testing.T) {
	want, err := os.ReadFile("../../assets/stories260K/greedy-200.txt")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/s.gguf"
	var out, errb bytes.Buffer
	if code := run([]string{"convert", "--out", path}, &out, &errb); code != 0 {
		t.Fatalf("convert exit %d: %s", code, errb.String())
	}
	if code := run([]string{"convert", "--out", path}, &out, &errb); code == 0 {
		t.Fatal("convert overwrote an existing file without --force")
	}
	out.Reset()
	if code := run([]string{"generate", "--model", path, "--temperature", "0", "--max-tokens", "200", ""}, &out, &errb); code != 0 {
		t.Fatalf("generate exit %d: %s", code, errb.String())
	}
	if out.String() != string(want)+"\n" {
		t.Fatalf("GGUF generate printed %q", out.String())
	}
}
