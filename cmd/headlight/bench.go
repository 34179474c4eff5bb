package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/bench"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "attention":
			return benchAttention(args[1:], stdout, stderr)
		case "generate":
			return benchGenerate(args[1:], stdout, stderr)
		case "serve":
			return benchServe(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "usage: headlight bench attention|generate|serve [flags]")
	return 2
}

func benchGenerate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight bench generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "model file (default: the embedded "+engine.DefaultModel+")")
	tokPath := fs.String("tokenizer", "", "tokenizer file for --model")
	threads := fs.Int("threads", 1, "worker threads (llama2.c's run.c is single-threaded)")
	positions := fs.Int("positions", 512, "greedy decode from BOS for this many positions")
	prefill := fs.Int("prefill", 256, "tokens fed in one prefill call")
	reps := fs.Int("reps", 5, "timed repetitions (the median is reported)")
	warmup := fs.Duration("warmup", bench.WarmupTime, "untimed decodes for this long first (at least one)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	weightType := fs.String("weights", "f32", weightsHelp)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the timed runs to `file`")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	wt, err := parseWeights(*weightType)
	if err != nil {
		fmt.Fprintln(stderr, "headlight bench generate: --weights:", err)
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight bench generate:", err); return 1 }
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	ld, err := engine.LoadWithOptions(*modelPath, *tokPath, attention.NewEngine(pool), engine.LoadOptions{Weights: wt})
	if err != nil {
		return fail(err)
	}
	defer ld.Close()
	name := ld.Name
	if wt != tensor.F32 {
		name += " (" + wt.String() + " weights)"
	}
	fmt.Fprintf(stderr, "measuring %s: decode %d positions, prefill %d tokens, %d threads, %d reps …\n", name, *positions, *prefill, pool.Threads(), *reps)
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fail(err)
	}
	r, err := bench.RunGenerate(ld.Model, name, pool.Threads(), *positions, *prefill, *reps, *warmup)
	if perr := stopProfile(); err == nil && perr != nil {
		err = perr
	}
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		return boolExit(json.NewEncoder(stdout).Encode(r) == nil)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tthreads\tdecode positions\tdecode tok/s\tprefill tokens\tprefill tok/s\tpeak RSS MiB\t")
	fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%d\t%.0f\t%.1f\t\n", r.Model, r.Threads, r.Positions, r.DecodeTokPerS, r.PrefillTokens, r.PrefillTokPerS, float64(r.PeakRSSBytes)/(1<<20))
	tw.Flush()
	return 0
}

func boolExit(ok bool) int {
	if ok {
		return 0
	}
	return 1
}

// shape is a "batch x seq" pair from --shapes.
type shape struct{ batch, seq int }

func parseShapes(s string) ([]shape, error) {
	var out []shape
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		b, q, ok := strings.Cut(f, "x")
		bi, err1 := strconv.Atoi(b)
		qi, err2 := strconv.Atoi(q)
		if !ok || err1 != nil || err2 != nil || bi < 1 || qi < 1 {
			return nil, fmt.Errorf("bad shape %q: want BATCHxSEQ, e.g. 1x512", f)
		}
		out = append(out, shape{bi, qi})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no shapes given")
	}
	return out, nil
}

// parseBools reads "on", "off" or "both" (also true/false).
func parseBools(name, s string) ([]bool, error) {
	switch s {
	case "both":
		return []bool{false, true}, nil
	case "on", "true", "yes":
		return []bool{true}, nil
	case "off", "false", "no":
		return []bool{false}, nil
	}
	return nil, fmt.Errorf("--%s %q: want on, off or both", name, s)
}

func benchAttention(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight bench attention", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shapes := fs.String("shapes", "1x128,8x128,1x512,1x2048,1x4096", "comma-separated BATCHxSEQ pairs")
	dModel := fs.Int("d-model", 768, "model width")
	heads := fs.Int("heads", 12, "attention heads (head dim = d-model/heads)")
	ops := fs.String("ops", "attention,mha", "what to measure: attention (fused core), mha (block with projections)")
	causal := fs.String("causal", "both", "causal mask: on, off or both")
	stats := fs.String("stats", "both", "head statistics: on, off or both")
	threads := fs.Int("threads", 0, "worker threads (0 = GOMAXPROCS)")
	minTime := fs.Duration("min-time", time.Second, "measure each case at least this long (or 10,000 runs)")
	warmup := fs.Duration("warmup", bench.WarmupTime, "untimed calls for this long before each case (at least one)")
	minReps := fs.Int("reps", 3, "at least this many timed runs per case (the median is reported)")
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: headlight bench attention [flags]\n\nMeasures the fused attention kernel (op attention) and the whole MHA block (op mha).\nFLOPs: 4·b·h·s²·d for the core (half when causal), plus 8·b·s·d_model² for mha.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight bench attention:", err); return 2 }
	shs, err := parseShapes(*shapes)
	if err != nil {
		return fail(err)
	}
	causals, err := parseBools("causal", *causal)
	if err != nil {
		return fail(err)
	}
	statss, err := parseBools("stats", *stats)
	if err != nil {
		return fail(err)
	}
	if *heads < 1 || *dModel < 1 || *dModel%*heads != 0 {
		return fail(fmt.Errorf("--d-model %d must be a positive multiple of --heads %d", *dModel, *heads))
	}
	var cases []bench.Case
	for _, op := range strings.Split(*ops, ",") {
		op = strings.TrimSpace(op)
		if op != "attention" && op != "mha" {
			return fail(fmt.Errorf("--ops: unknown op %q (want attention, mha)", op))
		}
		for _, s := range shs {
			for _, c := range causals {
				for _, st := range statss {
					cases = append(cases, bench.Case{Op: op, Batch: s.batch, Seq: s.seq, DModel: *dModel,
						Heads: *heads, Causal: c, Stats: st, Threads: *threads})
				}
			}
		}
	}
	opt := bench.Options{MinReps: *minReps, MinTime: *minTime, Warmup: *warmup}
	var tw *tabwriter.Writer
	if !*asJSON {
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "op\tbatch\tseq\td_model\theads\tcausal\tstats\tthreads\tms (median)\tGFLOP/s\truns\t")
	}
	enc := json.NewEncoder(stdout)
	for i, c := range cases {
		fmt.Fprintf(stderr, "\r[%d/%d] %s b=%d s=%d causal=%v stats=%v …   ", i+1, len(cases), c.Op, c.Batch, c.Seq, c.Causal, c.Stats)
		r, err := bench.RunAttention(c, opt)
		if err != nil {
			fmt.Fprintln(stderr)
			return fail(err)
		}
		if *asJSON {
			if err := enc.Encode(r); err != nil {
				return fail(err)
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%v\t%v\t%d\t%.3f\t%.2f\t%d\t\n", r.Op, r.Batch, r.Seq, r.DModel, r.Heads, onOff(r.Causal), onOff(r.Stats), r.Threads, r.Ms, r.GFLOPS, r.Reps)
	}
	fmt.Fprintln(stderr, "\r\033[K")
	if tw != nil {
		tw.Flush()
	}
	return 0
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
