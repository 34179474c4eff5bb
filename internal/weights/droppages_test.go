package weights

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDropPages: after DropPages a mapped file reads the same bytes (the
// pages come back from the file), and dropping after Close is harmless.
func TestDropPages(t *testing.T) {
	want := bytes.Repeat([]byte("headlight"), 100000) // several pages
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	data, closer, err := mapFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatal("mapping differs from the file")
	}
	if err := DropPages(closer); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatal("after DropPages the mapping differs from the file")
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := DropPages(closer); err != nil {
		t.Fatalf("DropPages after Close: %v", err)
	}
}
