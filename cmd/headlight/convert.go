package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/headlight/headlight/assets"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"
)

func runConvert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "llama2.c checkpoint (.bin) to convert (default: the embedded "+engine.DefaultModel+")")
	tokPath := fs.String("tokenizer", "", "its llama2.c tokenizer.bin (default: tokenizer.bin beside --model)")
	out := fs.String("out", "", "GGUF file to write (required)")
	dtype := fs.String("dtype", "f32", "tensor storage: f32, f16, bf16 or q8_0 (norms stay f32)")
	name := fs.String("name", "", "general.name to record (default: the input's name)")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: headlight convert [flags] --out FILE.gguf\n\nWrites a llama2.c checkpoint and its tokenizer as one GGUF file.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight convert:", err); return 1 }
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	dt := strings.ToUpper(*dtype)
	switch dt {
	case "F32", "F16", "BF16", "Q8_0":
	default:
		return fail(fmt.Errorf("--dtype %q: want f32, f16, bf16 or q8_0", *dtype))
	}
	var w *weights.Llama2C
	var tb []byte
	var err error
	if *modelPath == "" {
		w, err = weights.ParseLlama2C(assets.Stories260K)
		tb = assets.Tok512
		if *name == "" {
			*name = engine.DefaultModel
		}
	} else {
		var c io.Closer
		w, c, err = weights.OpenLlama2C(*modelPath)
		if err == nil {
			defer c.Close()
			if *tokPath == "" {
				*tokPath = strings.TrimSuffix(*modelPath, "/"+lastElem(*modelPath)) + "/tokenizer.bin"
			}
			tb, err = os.ReadFile(*tokPath)
		}
		if *name == "" {
			*name = strings.TrimSuffix(lastElem(*modelPath), ".bin")
		}
	}
	if err != nil {
		return fail(err)
	}
	tok, err := tokenizer.LoadLlama2C(tb, w.Config.VocabSize)
	if err != nil {
		return fail(err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(*out, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fail(fmt.Errorf("%s exists (use --force to overwrite)", *out))
	}
	if err != nil {
		return fail(err)
	}
	if err := engine.ConvertLlama2C(w, tok, *name, dt, f); err != nil {
		f.Close()
		os.Remove(*out) // never leave half a file
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(*out)
		return fail(err)
	}
	fi, _ := os.Stat(*out)
	fmt.Fprintf(stderr, "wrote %s (%s, %d bytes)\n", *out, dt, fi.Size())
	return 0
}

func lastElem(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
