package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

// weightsHelp describes --weights of generate and bench generate.
const weightsHelp = "precision of the attention and feed-forward weights (Llama, GPT-2), packed at load: f32 (the file's values), bf16 or f16 (rounded; half the bytes per decoded token, float32 accumulation), or bf16dot (bf16 whose prefill also rounds the activations to bf16 and runs AVX-512 BF16's VDPBF16PS: about 2× the prefill products, less precise; needs a CPU with AVX-512 BF16)"

// parseWeights reads --weights: a tensor.DType, and bf16dot only where the
// kernels run it in assembly.
func parseWeights(s string) (tensor.DType, error) {
	d, err := tensor.ParseDType(s)
	if err == nil && d == tensor.BF16Dot && !kernels.HasBF16Dot() {
		err = fmt.Errorf("bf16dot needs AVX-512 BF16 and the avx512 kernels (this machine runs %s, paths %v): use bf16", kernels.Impl(), kernels.Impls())
	}
	return d, err
}

func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "model file: a llama2.c .bin (default: the embedded "+engine.DefaultModel+")")
	tokPath := fs.String("tokenizer", "", "llama2.c tokenizer.bin (default: tokenizer.bin beside --model)")
	temp := fs.Float64("temperature", 0.8, "sampling temperature; 0 = greedy")
	topP := fs.Float64("top-p", 0.9, "nucleus sampling: keep the most likely tokens up to this probability (1 = off)")
	topK := fs.Int("top-k", 0, "keep only the k most likely tokens (0 = off)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed for sampling")
	maxTokens := fs.Int("max-tokens", 256, "tokens to generate")
	threads := fs.Int("threads", 0, "worker threads (0 = GOMAXPROCS)")
	weightType := fs.String("weights", "f32", weightsHelp)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: headlight generate [flags] [PROMPT]\n\nPrints the continuation of PROMPT on stdout; information goes to stderr.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "headlight generate: give the prompt as one argument (quote it)")
		return 2
	}
	prompt := fs.Arg(0)
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight generate:", err); return 1 }
	wt, err := parseWeights(*weightType)
	if err != nil {
		fmt.Fprintln(stderr, "headlight generate: --weights:", err)
		return 2
	}

	pool := kernels.NewPool(*threads)
	defer pool.Close()
	t0 := time.Now()
	ld, err := engine.LoadWithOptions(*modelPath, *tokPath, attention.NewEngine(pool), engine.LoadOptions{Progress: stderr, Weights: wt})
	if err != nil {
		return fail(err)
	}
	defer ld.Close()
	cfg := ld.Model.Config()
	fmt.Fprintf(stderr, "loaded %s (%s: %d layers, %d heads, %d kv heads, dim %d, vocab %d) in %v\n",
		ld.Name, cfg.Family, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.Dim, cfg.VocabSize, time.Since(t0).Round(time.Millisecond))

	tok := ld.Tokenizer
	ids := tok.Encode(prompt, true, false)
	req := engine.Request{Prompt: ids, MaxTokens: *maxTokens, Stop: []int{tok.BOS(), tok.EOS()},
		Sampling: engine.Sampling{Temperature: float32(*temp), TopP: float32(*topP), TopK: *topK, Seed: *seed}}
	if room := cfg.MaxSeq - len(ids); req.MaxTokens > room {
		if room < 1 {
			return fail(fmt.Errorf("prompt of %d tokens fills the model's %d-position context", len(ids), cfg.MaxSeq))
		}
		fmt.Fprintf(stderr, "max tokens %d capped to %d (context %d, prompt %d tokens)\n", req.MaxTokens, room, cfg.MaxSeq, len(ids))
		req.MaxTokens = room
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out := bufio.NewWriter(stdout)
	prev := ids[len(ids)-1]
	start := time.Now()
	gen, err := engine.Generate(ctx, ld.Model, req, func(id int) error {
		if _, err := io.WriteString(out, ld.Piece(prev, id)); err != nil {
			return err
		}
		prev = id
		return out.Flush()
	})
	out.Flush()
	fmt.Fprintln(stdout)
	if err != nil {
		return fail(err)
	}
	el := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "%d prompt + %d generated tokens in %.3fs (%.0f tokens/s)\n", len(ids), len(gen), el, float64(len(gen))/el)
	return 0
}
