package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
)

func runEmbed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "Hugging Face directory of a BERT-style encoder (config.json, model.safetensors, tokenizer.json); required")
	normalize := fs.Bool("normalize", true, "divide each embedding by its L2 norm (sentence-transformers all-MiniLM style)")
	threads := fs.Int("threads", 0, "worker threads (0 = GOMAXPROCS)")
	stdin := fs.Bool("stdin", false, "read one text per line from standard input instead of the arguments")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: headlight embed --model DIR [flags] TEXT...\n\nPrints one JSON object per text: {\"index\", \"embedding\"} (mean pooling).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	texts := fs.Args()
	if *stdin {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			texts = append(texts, sc.Text())
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintln(stderr, "headlight embed:", err)
			return 1
		}
	}
	if *modelPath == "" || len(texts) == 0 {
		fs.Usage()
		return 2
	}
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	em, err := engine.LoadEmbedder(*modelPath, attention.NewEngine(pool), stderr)
	if err != nil {
		fmt.Fprintln(stderr, "headlight embed:", err)
		return 1
	}
	defer em.Close()
	vecs, err := engine.Embed(em.Model, em.Tokenizer, texts, *normalize)
	if err != nil {
		fmt.Fprintln(stderr, "headlight embed:", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	for i, v := range vecs {
		if err := enc.Encode(struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}{i, v}); err != nil {
			return 1
		}
	}
	return 0
}
