// Command headlight is Headlight's single binary: the attention engine's
// benchmarks today, the model runtime and `headlight serve` as they land.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/headlight/headlight/internal/kernels"
)

const usage = `headlight — multi-head attention you can see into

Usage:
  headlight serve [flags]             serve the models over HTTP (OpenAI-style API, attention stats, metrics)
  headlight generate [flags] PROMPT   continue a prompt with a model (default: the embedded stories260K)
  headlight embed --model DIR TEXT... sentence embeddings from a BERT-style encoder
  headlight inspect [flags] TEXT      per layer × head statistics and attention maps of a text
  headlight convert --out F.gguf      write a llama2.c checkpoint (default: the embedded model) as GGUF
  headlight synth --out DIR           write a random llama2.c checkpoint of a chosen shape (benchmarks)
  headlight bench attention [flags]   measure the fused attention kernel and the MHA block
  headlight bench generate [flags]    decode and prefill tokens/s and peak RSS of a model
  headlight version                   print the version
  headlight help [command]            show help

Run "headlight bench attention -h" for the benchmark's flags.
`

// version is set by -ldflags "-X main.version=…" in release builds.
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err := kernels.EnvError(); err != nil {
		fmt.Fprintln(stderr, "headlight:", err)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "generate":
		return runGenerate(args[1:], stdout, stderr)
	case "embed":
		return runEmbed(args[1:], stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "convert":
		return runConvert(args[1:], stdout, stderr)
	case "synth":
		return runSynth(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "headlight", version)
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 {
			return run(append(args[1:], "-h"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "headlight: unknown command %q\n\n%s", args[0], usage)
	return 2
}
