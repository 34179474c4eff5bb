package bench

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/nn"
	"github.com/headlight/headlight/internal/tensor"
)

// GenerateResult is one `headlight bench generate` measurement.
type GenerateResult struct {
	Op             string  `json:"op"` // "generate"
	Model          string  `json:"model"`
	Threads        int     `json:"threads"`
	Positions      int     `json:"positions"`      // decode: positions from BOS
	PrefillTokens  int     `json:"prefill_tokens"` // prefill: tokens fed in one call
	PrefillTokPerS float64 `json:"prefill_tok_s"`  // median
	DecodeTokPerS  float64 `json:"decode_tok_s"`   // median
	PeakRSSBytes   int64   `json:"peak_rss_bytes"` // VmHWM of the process
	Reps           int     `json:"reps"`
}

// RunGenerate measures greedy decoding from BOS for positions tokens (one
// Forward per token, KV cache) and a prefill of prefill tokens in one call,
// each after untimed runs of it for warmup (at least one), reps times
// (prefills at least prefillReps times); it reports medians.
func RunGenerate(m model.Decoder, name string, threads, positions, prefill, reps int, warmup time.Duration) (GenerateResult, error) {
	cfg := m.Config()
	if positions < 1 || positions > cfg.MaxSeq || prefill < 1 || prefill > cfg.MaxSeq {
		return GenerateResult{}, fmt.Errorf("bench: positions %d and prefill %d must be in 1…%d", positions, prefill, cfg.MaxSeq)
	}
	reps = max(reps, 1)
	var toks []int
	// decode runs greedy decoding from BOS once, leaving its tokens in toks,
	// and returns its tokens/s.
	decode := func() (float64, error) {
		st := model.NewState(cfg, 1, positions, tensor.F32)
		toks = toks[:0]
		tok := 1
		t0 := time.Now()
		for range positions {
			logits, err := m.Forward(st, []int{tok}, 1, nil, true)
			if err != nil {
				return 0, err
			}
			toks = append(toks, tok)
			tok = nn.Argmax(logits)
		}
		return float64(positions) / time.Since(t0).Seconds(), nil
	}
	for tw := time.Now(); ; { // warm-up: at least one decode, for warmup
		if _, err := decode(); err != nil {
			return GenerateResult{}, err
		}
		if time.Since(tw) >= warmup {
			break
		}
	}
	var dec, pre []float64
	for range reps {
		r, err := decode()
		if err != nil {
			return GenerateResult{}, err
		}
		dec = append(dec, r)
	}
	for len(toks) < prefill {
		toks = append(toks, toks...)
	}
	prompt := toks[:prefill]
	// prefillOnce feeds the prompt to a new State and returns its tokens/s.
	prefillOnce := func() (float64, error) {
		st := model.NewState(cfg, 1, prefill, tensor.F32)
		t0 := time.Now()
		if _, err := m.Forward(st, prompt, prefill, nil, true); err != nil {
			return 0, err
		}
		return float64(prefill) / time.Since(t0).Seconds(), nil
	}
	// Warm-up as for decoding, then at least prefillReps timed prefills: the
	// first 10–20 prefills of a process run at about half the steady speed
	// while the heap grows to hold their fresh States and scratch (the
	// 768-wide model, 2 threads, float32: 723–753 tokens/s as the median of
	// 3 after one untimed prefill, 712–1,151 after 0.5 s of them, 1,296–1,477
	// as the median of 40), so a median of a few is not the steady speed.
	for tw := time.Now(); ; {
		if _, err := prefillOnce(); err != nil {
			return GenerateResult{}, err
		}
		if time.Since(tw) >= warmup {
			break
		}
	}
	for range max(reps, prefillReps) {
		r, err := prefillOnce()
		if err != nil {
			return GenerateResult{}, err
		}
		pre = append(pre, r)
	}
	return GenerateResult{Op: "generate", Model: name, Threads: threads, Positions: positions, PrefillTokens: prefill,
		PrefillTokPerS: median(pre), DecodeTokPerS: median(dec), PeakRSSBytes: PeakRSS(), Reps: reps}, nil
}

// prefillReps is the least number of timed prefills of RunGenerate.
const prefillReps = 40

func median(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// PeakRSS is the process's peak resident set (VmHWM) in bytes, or -1 where
// /proc is not available.
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}
