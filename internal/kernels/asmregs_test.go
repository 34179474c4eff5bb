//go:build amd64

package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoEVEXRegisters: the generated AVX2 kernels use only X0–X15/Y0–Y15.
// avo's register allocator also hands out AVX-512's X16–X31/Y16–Y31/Z
// registers when a kernel needs more than 16 vectors, and those encode as
// EVEX instructions that raise SIGILL on a CPU without AVX-512.
func TestNoEVEXRegisters(t *testing.T) {
	files, err := filepath.Glob("z*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated assembly found (%v)", err)
	}
	evex := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[1-7])\b`)
	for _, f := range files {
		if strings.HasSuffix(f, "512_amd64.s") {
			continue // the AVX-512 kernels, run only where haveAVX512
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := evex.Find(b); m != nil {
			t.Errorf("%s uses the AVX-512 register %s", f, m)
		}
	}
}
