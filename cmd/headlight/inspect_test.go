package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	pngPath := filepath.Join(t.TempDir(), "map.png")
	var out, errb bytes.Buffer
	code := run([]string{"inspect", "--layer", "4", "--head", "7", "--png", pngPath, "Once upon a time"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"5 tokens, 5 layers × 8 heads", "mean entropy", "output norm", "layer 4 head 7", `" Once"`} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx()%5 != 0 {
		t.Errorf("heatmap is %v, want a square of 5×5 cells", b)
	}
	for _, bad := range [][]string{{"inspect", "--layer", "5", "x"}, {"inspect", "--head", "8", "x"}, {"inspect"}} {
		var o, e bytes.Buffer
		if run(bad, &o, &e) == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
}
