package main

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/headlight/headlight/internal/testutil"
)

func toyBERTDir(t *testing.T) string { return testutil.ToyBERTDir(t, "../..") }

func TestEmbed(t *testing.T) {
	dir := toyBERTDir(t)
	var out, errb bytes.Buffer
	if code := run([]string{"embed", "--model", dir, "the cat sat on the mat", "a dog ran", "the cat sat on the mat"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var vecs [][]float32
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Index != len(vecs) {
			t.Fatalf("index %d out of order", r.Index)
		}
		vecs = append(vecs, r.Embedding)
	}
	if len(vecs) != 3 || len(vecs[0]) != 48 {
		t.Fatalf("%d embeddings of %d", len(vecs), len(vecs[0]))
	}
	var n float64
	for i, v := range vecs[0] {
		n += float64(v) * float64(v)
		if v != vecs[2][i] {
			t.Fatalf("the same text embedded differently")
		}
	}
	if math.Abs(n-1) > 1e-5 {
		t.Errorf("normalised embedding has squared norm %v", n)
	}
	for _, bad := range [][]string{{"embed", "x"}, {"embed", "--model", "../../testdata/families/gpt2", "x"}} {
		if run(bad, &out, &errb) == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
}
