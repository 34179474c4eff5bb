package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes text to a config file in a temporary directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "headlight.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// completionStatus posts a completion with maxTokens and returns the status.
func completionStatus(t *testing.T, base, maxTokens string) int {
	t.Helper()
	resp, err := http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "Hi", "max_tokens": `+maxTokens+`}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeConfigPrecedence: flag > variable > file > default, seen
// through --max-tokens-cap (a max_tokens over it is a 422), and a list of
// models from the file.
func TestServeConfigPrecedence(t *testing.T) {
	cfg := writeConfig(t, "# settings\nmax-tokens-cap: 3\nmodel:\n  - a=\n  - b@v2=stories260K\nhead-stats-sample: 0.5\n")
	for _, c := range []struct {
		name     string
		env      string // HEADLIGHT_MAX_TOKENS_CAP
		args     []string
		ok, over string // max_tokens answered 200 and 422
	}{
		{"file", "", nil, "3", "4"},
		{"variable over file", "5", nil, "5", "6"},
		{"flag over variable", "5", []string{"--max-tokens-cap", "7"}, "7", "8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv("HEADLIGHT_MAX_TOKENS_CAP", c.env)
			}
			base, stop := startServe(t, append([]string{"--config", cfg}, c.args...)...)
			if got := completionStatus(t, base, c.ok); got != 200 {
				t.Errorf("max_tokens %s: status %d, want 200", c.ok, got)
			}
			if got := completionStatus(t, base, c.over); got != 422 {
				t.Errorf("max_tokens %s: status %d, want 422", c.over, got)
			}
			if ids := strings.Join(modelIDs(t, base), ","); ids != "a,b@v2" {
				t.Errorf("models from the file: %s", ids)
			}
			if code := stop(); code != 0 {
				t.Errorf("exit %d", code)
			}
		})
	}
	// --model on the command line replaces the file's list; the config
	// file may come from $HEADLIGHT_CONFIG.
	t.Setenv("HEADLIGHT_CONFIG", cfg)
	base, _ := startServe(t, "--model", "c=")
	if ids := strings.Join(modelIDs(t, base), ","); ids != "c" {
		t.Errorf("models with --model over the file: %s", ids)
	}
}

// TestServeConfigErrors: unknown keys and wrong types are named.
func TestServeConfigErrors(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"max-batch: 4\nmax-bach: 4\n", []string{`unknown key "max-bach"`, "valid keys: addr, canary,", "max-batch"}},
		{"config: other.yaml\n", []string{`unknown key "config"`}},
		{"max-batch: many\n", []string{`key "max-batch"`, "invalid value"}},
		{"max-batch: [1, 2]\n", []string{`key "max-batch"`, "not a list"}},
		{"capture-raw-tokens: {a: 1}\n", []string{`key "capture-raw-tokens"`, "mapping"}},
		{"capture-raw-tokens: maybe\n", []string{`key "capture-raw-tokens"`}},
		{"max-queue-wait: 5\n", []string{`key "max-queue-wait"`}},
		{"model: [a=, {b: c}]\n", []string{`key "model"`, "list of strings"}},
		{"addr:\n", []string{`key "addr"`, "no value"}},
		{"addr: a\naddr: b\n", []string{`key "addr" given twice`}},
		{"- addr\n", []string{"want a mapping"}},
		{"addr: [unclosed\n", []string{"config"}},
	} {
		var out, errb bytes.Buffer
		code := serveMain(context.Background(), []string{"--config", writeConfig(t, c.text)}, &out, &errb, nil)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", c.text, code)
		}
		for _, w := range c.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%q: error %q lacks %q", c.text, errb.String(), w)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := serveMain(context.Background(), []string{"--config", "/nonexistent/h.yaml"}, &out, &errb, nil); code != 2 || !strings.Contains(errb.String(), "/nonexistent/h.yaml") {
		t.Errorf("missing file: exit %d, %q", code, errb.String())
	}
}

// TestApplyConfig: values from the file fill only the flags not yet set,
// repeatable flags take lists, an empty file changes nothing.
func TestApplyConfig(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	a := fs.String("addr", "def", "")
	n := fs.Int("max-batch", 1, "")
	var models modelFlags
	fs.Var(&models, "model", "")
	if err := fs.Parse([]string{"--addr", "cli"}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(fs, writeConfig(t, "addr: file\nmax-batch: 9\nmodel: [x=1, y=2]\n")); err != nil {
		t.Fatal(err)
	}
	if *a != "cli" || *n != 9 || strings.Join(models, ";") != "x=1;y=2" {
		t.Errorf("addr %q max-batch %d models %v", *a, *n, models)
	}
	if err := applyConfig(fs, writeConfig(t, "")); err != nil {
		t.Errorf("empty file: %v", err)
	}
}
