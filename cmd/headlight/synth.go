package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/headlight/headlight/assets"
	"github.com/headlight/headlight/internal/weights"
)

// runSynth writes a llama2.c checkpoint of random weights with the
// embedded model's tokenizer: a model of any size for benchmarks (decode
// speed, serving overhead), in the format llama2.c's run.c reads too.
func runSynth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "`dir`ectory to write model.bin and tokenizer.bin into (created if missing)")
	dim := fs.Int("dim", 768, "model width")
	hidden := fs.Int("hidden", 2048, "feed-forward width")
	layers := fs.Int("layers", 12, "transformer blocks")
	heads := fs.Int("heads", 12, "query heads")
	kvHeads := fs.Int("kv-heads", 0, "key/value heads (0: as many as query heads)")
	seqLen := fs.Int("seq-len", 1024, "context length")
	seed := fs.Uint64("seed", 1, "seed of the random weights")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: headlight synth --out DIR [flags]

Writes DIR/model.bin, a legacy llama2.c checkpoint of random weights
(normal, σ 0.02; norms 1; shared classifier), and DIR/tokenizer.bin, the
embedded model's 512-piece tokenizer, so that "headlight generate --model
DIR/model.bin", "headlight bench generate" and llama2.c's run.c can run it.
The text it writes is gibberish; the arithmetic is that of a real model of
that shape. The default is the 768-wide, 12-layer, 12-head shape of the
performance targets (about 85 M parameters, 340 MB).

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(err error) int { fmt.Fprintln(stderr, "headlight synth:", err); return 2 }
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *out == "" {
		return usageErr(errors.New("--out is required"))
	}
	if *kvHeads == 0 {
		*kvHeads = *heads
	}
	cfg := weights.Llama2CConfig{Dim: *dim, HiddenDim: *hidden, Layers: *layers, Heads: *heads, KVHeads: *kvHeads,
		VocabSize: 512, SeqLen: *seqLen, SharedClassifier: true}
	if err := cfg.Validate(); err != nil {
		return usageErr(err)
	}
	if *dim/(*heads)%2 != 0 {
		return usageErr(fmt.Errorf("head size %d must be even (RoPE)", *dim/(*heads)))
	}
	if err := synth(*out, cfg, *seed); err != nil {
		fmt.Fprintln(stderr, "headlight synth:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*out, "model.bin"), filepath.Join(*out, "tokenizer.bin"))
	return 0
}

func synth(dir string, cfg weights.Llama2CConfig, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x5e17))
	normal := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.02)
		}
		return x
	}
	ones := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = 1
		}
		return x
	}
	d, h, L, kv := cfg.Dim, cfg.HiddenDim, cfg.Layers, cfg.KVDim()
	m := &weights.Llama2C{Config: cfg,
		TokenEmbedding: normal(cfg.VocabSize * d), // (vocab, dim)
		RMSAtt:         ones(L * d),               // (layer, dim)
		WQ:             normal(L * d * d),         // (layer, dim, dim)
		WK:             normal(L * kv * d),        // (layer, kvDim, dim)
		WV:             normal(L * kv * d),        // (layer, kvDim, dim)
		WO:             normal(L * d * d),         // (layer, dim, dim)
		RMSFFN:         ones(L * d),               // (layer, dim)
		W1:             normal(L * h * d),         // (layer, hidden, dim)
		W2:             normal(L * d * h),         // (layer, dim, hidden)
		W3:             normal(L * h * d),         // (layer, hidden, dim)
		RMSFinal:       ones(d),                   // (dim)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "model.bin"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := weights.WriteLlama2C(bw, m); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tokenizer.bin"), assets.Tok512, 0o644)
}
