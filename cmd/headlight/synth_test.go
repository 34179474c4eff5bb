package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/headlight/headlight/internal/weights"
)

// TestSynth: `headlight synth` writes a checkpoint of the asked shape that
// the llama2.c reader accepts (header, sizes, shared classifier), the same
// bytes for the same seed and different ones for another, and that
// `headlight generate` runs.
func TestSynth(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	for i, seed := range []string{"7", "7", "8"} {
		var out, errb bytes.Buffer
		args := []string{"synth", "--out", dirs[i], "--dim", "48", "--hidden", "80", "--layers", "2", "--heads", "6", "--kv-heads", "2", "--seq-len", "64", "--seed", seed}
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	read := func(d string) []byte {
		b, err := os.ReadFile(filepath.Join(d, "model.bin"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := read(dirs[0]), read(dirs[1]), read(dirs[2])
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatalf("same seed equal: %v, other seed different: %v", bytes.Equal(a, b), !bytes.Equal(a, c))
	}
	m, err := weights.ParseLlama2C(a)
	if err != nil {
		t.Fatal(err)
	}
	want := weights.Llama2CConfig{Dim: 48, HiddenDim: 80, Layers: 2, Heads: 6, KVHeads: 2, VocabSize: 512, SeqLen: 64, SharedClassifier: true}
	if m.Config != want {
		t.Fatalf("config %+v, want %+v", m.Config, want)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"generate", "--model", filepath.Join(dirs[0], "model.bin"), "--max-tokens", "5", "--temperature", "0", "Once"}, &out, &errb); code != 0 {
		t.Fatalf("generate on the synthetic model: exit %d: %s", code, errb.String())
	}
	for _, args := range [][]string{{"synth"}, {"synth", "--out", t.TempDir(), "--dim", "50", "--heads", "3"}, {"synth", "--out", t.TempDir(), "x"}} {
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
