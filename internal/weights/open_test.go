package weights

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// OpenLlama2C maps a valid file, agrees with ParseLlama2C, and closes twice.
func TestOpenLlama2C(t *testing.T) {
	for _, version := range []int{0, 1} {
		want := randomModel(withShared(testConfigs[2], version == 1), 11)
		path := filepath.Join(t.TempDir(), "model.bin")
		if err := os.WriteFile(path, handWrite(want, version), 0o644); err != nil {
			t.Fatal(err)
		}
		m, closer, err := OpenLlama2C(path)
		if err != nil {
			t.Fatalf("OpenLlama2C: %v", err)
		}
		checkSame(t, m, want)
		if m.Version != version {
			t.Errorf("Version = %d, want %d", m.Version, version)
		}
		if err := closer.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := closer.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
}

// OpenLlama2C rejects what is not a valid checkpoint file, naming the path.
func TestOpenLlama2CErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.bin")
	truncated := filepath.Join(dir, "truncated.bin")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	data := handWrite(randomModel(withShared(testConfigs[0], true), 1), 0)
	if err := os.WriteFile(truncated, data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		malformed  bool
	}{
		{"missing", filepath.Join(dir, "nope.bin"), false},
		{"directory", dir, false},
		{"empty", empty, true},
		{"truncated", truncated, true},
	}
	for _, c := range cases {
		m, closer, err := OpenLlama2C(c.path)
		if err == nil {
			closer.Close()
			t.Errorf("%s: opened %+v, want an error", c.name, m.Config)
			continue
		}
		if m != nil || closer != nil {
			t.Errorf("%s: non-nil model or closer with error %v", c.name, err)
		}
		if !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: error %q does not name the path", c.name, err)
		}
		if errors.Is(err, ErrMalformed) != c.malformed {
			t.Errorf("%s: errors.Is(%v, ErrMalformed) = %v, want %v", c.name, err, !c.malformed, c.malformed)
		}
	}
	if _, _, err := OpenLlama2C(filepath.Join(dir, "nope.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v does not wrap os.ErrNotExist", err)
	}
}
