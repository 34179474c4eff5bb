package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
)

// headStats is one layer's statistics, summarised per head over the queries.
type headStats struct {
	entropy, maxWeight, norm []float64 // (heads)
	nonFinite                int64
}

// collector is the attention.Probe of inspect: it keeps a summary per layer.
type collector struct{ layers []headStats }

func (c *collector) ObserveAttention(layer int, st *attention.Stats) {
	hs := headStats{entropy: make([]float64, st.Heads), maxWeight: make([]float64, st.Heads), norm: make([]float64, st.Heads), nonFinite: st.NonFinite()}
	for h := 0; h < st.Heads; h++ {
		for i := 0; i < st.SeqQ; i++ { // batch 1
			hs.entropy[h] += float64(st.Entropy[h*st.SeqQ+i]) / float64(st.SeqQ)
			hs.maxWeight[h] += float64(st.MaxWeight[h*st.SeqQ+i]) / float64(st.SeqQ)
		}
		hs.norm[h] = float64(st.OutNorm[h])
	}
	for len(c.layers) <= layer {
		c.layers = append(c.layers, headStats{})
	}
	c.layers[layer] = hs
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("headlight inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "model file: a llama2.c .bin (default: the embedded "+engine.DefaultModel+")")
	tokPath := fs.String("tokenizer", "", "llama2.c tokenizer.bin (default: tokenizer.bin beside --model)")
	layer := fs.Int("layer", -1, "layer of the attention map to show (-1: none)")
	head := fs.Int("head", 0, "head of the attention map to show")
	pngPath := fs.String("png", "", "also write the map as a PNG heatmap to this file")
	threads := fs.Int("threads", 0, "worker threads (0 = GOMAXPROCS)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: headlight inspect [flags] TEXT

Runs TEXT through the model and prints, per layer × head, the mean attention
entropy (nats), the mean max weight and the output norm (utilisation). With
--layer and --head it also prints that head's attention map as a table (and
as a PNG heatmap with --png).

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "headlight inspect:", err); return 1 }
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	t0 := time.Now()
	ld, err := engine.LoadWithProgress(*modelPath, *tokPath, attention.NewEngine(pool), stderr)
	if err != nil {
		return fail(err)
	}
	defer ld.Close()
	cfg := ld.Model.Config()
	fmt.Fprintf(stderr, "loaded %s in %v\n", ld.Name, time.Since(t0).Round(time.Millisecond))
	if *layer >= cfg.Layers || *layer < -1 || *head < 0 || *head >= cfg.Heads {
		return fail(fmt.Errorf("the model has layers 0…%d and heads 0…%d", cfg.Layers-1, cfg.Heads-1))
	}
	tok := ld.Tokenizer
	ids := tok.Encode(fs.Arg(0), true, false)
	if len(ids) > cfg.MaxSeq {
		return fail(fmt.Errorf("text is %d tokens; the model's context is %d", len(ids), cfg.MaxSeq))
	}
	st := model.NewState(cfg, 1, len(ids), tensor.F32)
	col := &collector{}
	st.Probe = col
	var amap []float32
	if *layer >= 0 {
		st.Capture = func(l int) []attention.HeadRef {
			if l == *layer {
				return []attention.HeadRef{{Batch: 0, Head: *head}}
			}
			return nil
		}
		st.OnMaps = func(_ int, _ []attention.HeadRef, maps [][]float32) { amap = maps[0] }
	}
	if _, err := ld.Model.Forward(st, ids, len(ids), nil, true); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%d tokens, %d layers × %d heads\n", len(ids), cfg.Layers, cfg.Heads)
	for _, t := range []struct {
		name string
		get  func(h headStats) []float64
	}{
		{"mean entropy (nats; log n = uniform)", func(h headStats) []float64 { return h.entropy }},
		{"mean max weight", func(h headStats) []float64 { return h.maxWeight }},
		{"output norm (utilisation)", func(h headStats) []float64 { return h.norm }},
	} {
		fmt.Fprintf(stdout, "\n%s\n", t.name)
		tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "layer\t")
		for h := 0; h < cfg.Heads; h++ {
			fmt.Fprintf(tw, "h%d\t", h)
		}
		fmt.Fprintln(tw)
		for l, ls := range col.layers {
			fmt.Fprintf(tw, "%d\t", l)
			for _, v := range t.get(ls) {
				fmt.Fprintf(tw, "%.3f\t", v)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	for l, ls := range col.layers {
		if ls.nonFinite > 0 {
			fmt.Fprintf(stdout, "\nWARNING: layer %d had %d NaN/Inf logits or outputs\n", l, ls.nonFinite)
		}
	}
	if amap == nil {
		return 0
	}
	labels := make([]string, len(ids))
	for i, id := range ids {
		labels[i] = strconv.Quote(tok.TokenText(id))
	}
	fmt.Fprintf(stdout, "\nattention map, layer %d head %d (rows: queries, columns: keys; weights ×100)\n", *layer, *head)
	printMap(stdout, amap, labels)
	if *pngPath != "" {
		if err := writeHeatmap(*pngPath, amap, len(ids), len(ids)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "wrote %s\n", *pngPath)
	}
	return 0
}

func printMap(w io.Writer, m []float32, labels []string) {
	n := len(labels)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for j := range n {
		fmt.Fprintf(tw, "%d\t", j)
	}
	fmt.Fprintln(tw)
	for i := range n {
		fmt.Fprintf(tw, "%d %s\t", i, labels[i])
		for j := range n {
			v := m[i*n+j]
			if v == 0 {
				fmt.Fprint(tw, ".\t")
			} else {
				fmt.Fprintf(tw, "%.0f\t", 100*v)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w, "tokens:", strings.Join(labels, " "))
}

// writeHeatmap draws weights (rows, cols) with cells of a fixed size on a
// perceptual dark-blue → yellow ramp; 0 is black.
func writeHeatmap(path string, m []float32, rows, cols int) error {
	cell := max(4, min(24, 768/max(rows, cols)))
	img := image.NewRGBA(image.Rect(0, 0, cols*cell, rows*cell))
	for i := range rows {
		for j := range cols {
			c := ramp(float64(m[i*cols+j]))
			for y := i * cell; y < (i+1)*cell; y++ {
				for x := j * cell; x < (j+1)*cell; x++ {
					img.Set(x, y, c)
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ramp(v float64) color.RGBA {
	if v <= 0 || math.IsNaN(v) {
		return color.RGBA{0, 0, 0, 255}
	}
	t := math.Sqrt(math.Min(v, 1)) // spread small weights
	r := uint8(255 * math.Min(1, 1.6*t*t))
	g := uint8(255 * math.Min(1, 0.15+0.85*t))
	b := uint8(255 * math.Max(0, 0.55-0.55*t+0.2*(1-t)))
	return color.RGBA{r, g, b, 255}
}
