// Command sgemm is the Headlight side of `make bench-peers` (bench/peers/run.py):
// it times kernels.MatMulTransB on the shapes it is given and prints one JSON
// object per shape; with -fma-peak it instead measures the machine's float32
// FMA peak with a probe of independent vector FMAs (fma_amd64.s) of the
// kernels' path: zmm when they run AVX-512, ymm otherwise.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/headlight/headlight/internal/kernels"
)

type result struct {
	M       int     `json:"m"`
	N       int     `json:"n"`
	K       int     `json:"k"`
	Threads int     `json:"threads"`
	Ms      float64 `json:"ms"`
	GFLOPS  float64 `json:"gflops"`
	Reps    int     `json:"reps"`
	Impl    string  `json:"impl"`
	Kernel  string  `json:"kernel"`
}

type peak struct {
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
	Probe   string  `json:"probe"`
}

func median(x []float64) float64 {
	slices.Sort(x)
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// parseShapes reads "MxNxK,…" (c is M×N, the inner dimension is K).
func parseShapes(s string) ([][3]int, error) {
	var out [][3]int
	for _, f := range strings.Split(s, ",") {
		p := strings.Split(strings.TrimSpace(f), "x")
		if len(p) != 3 {
			return nil, fmt.Errorf("bad shape %q: want MxNxK", f)
		}
		var d [3]int
		for i := range p {
			v, err := strconv.Atoi(p[i])
			if err != nil || v < 1 {
				return nil, fmt.Errorf("bad shape %q: want MxNxK", f)
			}
			d[i] = v
		}
		out = append(out, d)
	}
	return out, nil
}

// fmaPeak runs the probe on threads goroutines, each locked to an OS thread,
// and returns the best of reps rounds in GFLOP/s.
func fmaPeak(threads, reps int) float64 {
	const iters = 20_000_000
	loop, flops, _ := pickProbe()
	best := 0.0
	for r := 0; r < reps; r++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for t := 0; t < threads; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				<-start
				loop(iters)
			}()
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		dt := time.Since(t0).Seconds()
		best = max(best, float64(threads)*iters*float64(flops)/dt/1e9)
	}
	return best
}

func main() {
	shapes := flag.String("shapes", "512x512x512,1024x1024x1024,2048x2048x2048,128x768x768,512x768x768,2048x768x768", "comma-separated MxNxK")
	threads := flag.Int("threads", 2, "worker threads")
	minTime := flag.Duration("min-time", 300*time.Millisecond, "time each shape at least this long")
	minReps := flag.Int("reps", 3, "at least this many timed calls per shape (the median is reported)")
	peakMode := flag.Bool("fma-peak", false, "measure the FMA peak instead of SGEMM")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "untimed calls for this long before timing (at least one)")
	kernel := flag.String("kernel", "panels+pack", "what to time: panels+pack (kernels.PackPanels of b, then kernels.MatMulPanels: the whole product from row-major b, as torch.matmul), panels (b packed once outside the timing, as a model's weights) or transb (kernels.MatMulTransB on row-major b)")
	flag.Parse()
	enc := json.NewEncoder(os.Stdout)
	if *peakMode {
		_, _, desc := pickProbe()
		_ = enc.Encode(peak{Threads: *threads, GFLOPS: fmaPeak(*threads, 5), Probe: desc})
		return
	}
	shs, err := parseShapes(*shapes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sgemm:", err)
		os.Exit(2)
	}
	pool := kernels.NewPool(*threads)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, s := range shs {
		m, n, k := s[0], s[1], s[2]
		a, b, c := fill(m*k), fill(n*k), make([]float32, m*n)
		var call func()
		switch *kernel {
		case "panels+pack":
			w := new(kernels.Panels) // its memory is reused, as a BLAS reuses its packing buffers
			call = func() { w.Pack(pool, b, n, k); kernels.MatMulPanels(pool, c, a, w, nil, m) }
		case "panels":
			w := kernels.PackPanels(b, n, k)
			call = func() { kernels.MatMulPanels(pool, c, a, w, nil, m) }
		case "transb":
			call = func() { kernels.MatMulTransB(pool, c, a, b, nil, m, n, k) }
		default:
			fmt.Fprintf(os.Stderr, "sgemm: unknown -kernel %q (want panels+pack, panels or transb)\n", *kernel)
			os.Exit(2)
		}
		for warm := time.Now(); ; { // warm-up, as bench.WarmupTime and run.py's
			call()
			if time.Since(warm) >= *warmup {
				break
			}
		}
		var times []float64
		start := time.Now()
		for len(times) < *minReps || (time.Since(start) < *minTime && len(times) < 10000) { // the cap of headlight bench attention and run.py
			t0 := time.Now()
			call()
			times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
		}
		ms := median(times)
		_ = enc.Encode(result{M: m, N: n, K: k, Threads: pool.Threads(), Ms: ms,
			GFLOPS: 2 * float64(m) * float64(n) * float64(k) / (ms / 1e3) / 1e9, Reps: len(times), Impl: kernels.Impl(), Kernel: *kernel})
	}
}
