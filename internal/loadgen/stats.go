package loadgen

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"text/tabwriter"
	"time"
)

// Percentiles are latencies in seconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Summary is what a run measured. Latency and throughput count successful
// requests only; the error rate is errors / (successes + errors), with
// requests cut off by the deadline left out of both.
type Summary struct {
	Requests        int            `json:"requests"` // sent
	OK              int            `json:"ok"`
	Errors          int            `json:"errors"`
	Cancelled       int            `json:"cancelled"` // cut off by --duration
	ErrorRate       float64        `json:"error_rate"`
	ErrorsByStatus  map[string]int `json:"errors_by_status,omitempty"`
	WallSeconds     float64        `json:"wall_seconds"`
	RequestsPerSec  float64        `json:"requests_per_second"` // successful
	TokensPerSec    float64        `json:"tokens_per_second"`   // generated, successful requests
	GeneratedTokens int            `json:"generated_tokens"`
	PromptTokens    int            `json:"prompt_tokens"`
	Latency         Percentiles    `json:"latency_seconds"`
	TTFT            *Percentiles   `json:"ttft_seconds,omitempty"` // streaming only
	FirstError      string         `json:"first_error,omitempty"`
}

// Summarize condenses the records of a run that took wall.
func Summarize(records []Record, wall time.Duration) Summary {
	s := Summary{Requests: len(records), WallSeconds: wall.Seconds(), ErrorsByStatus: map[string]int{}}
	var lat, ttft []float64
	for _, r := range records {
		switch {
		case r.Cancelled:
			s.Cancelled++
		case r.Err != "":
			s.Errors++
			key := "transport"
			if r.Status != 0 {
				key = fmt.Sprint(r.Status)
			}
			s.ErrorsByStatus[key]++
			if s.FirstError == "" {
				s.FirstError = r.Err
			}
		default:
			s.OK++
			s.GeneratedTokens += r.Tokens
			s.PromptTokens += r.PromptToks
			lat = append(lat, r.Latency.Seconds())
			if r.TTFT > 0 {
				ttft = append(ttft, r.TTFT.Seconds())
			}
		}
	}
	if n := s.OK + s.Errors; n > 0 {
		s.ErrorRate = float64(s.Errors) / float64(n)
	}
	if wall > 0 {
		s.RequestsPerSec = float64(s.OK) / wall.Seconds()
		s.TokensPerSec = float64(s.GeneratedTokens) / wall.Seconds()
	}
	s.Latency = percentiles(lat)
	if len(ttft) > 0 {
		p := percentiles(ttft)
		s.TTFT = &p
	}
	if len(s.ErrorsByStatus) == 0 {
		s.ErrorsByStatus = nil
	}
	return s
}

// percentiles of xs (linear interpolation between closest ranks); zeros
// when xs is empty.
func percentiles(xs []float64) Percentiles {
	if len(xs) == 0 {
		return Percentiles{}
	}
	xs = slices.Clone(xs)
	sort.Float64s(xs)
	return Percentiles{P50: Quantile(xs, 0.50), P95: Quantile(xs, 0.95), P99: Quantile(xs, 0.99), Max: xs[len(xs)-1]}
}

// Quantile is the q-quantile of sorted xs with linear interpolation
// between closest ranks (NaN for an empty slice).
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	f := pos - float64(lo)
	return sorted[lo]*(1-f) + sorted[lo+1]*f
}

// Median of xs (NaN when empty).
func Median(xs []float64) float64 {
	xs = slices.Clone(xs)
	sort.Float64s(xs)
	return Quantile(xs, 0.5)
}

// WriteTable prints s as an aligned table.
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ms := func(x float64) string { return fmt.Sprintf("%.2f ms", x*1e3) }
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("requests", fmt.Sprintf("%d sent, %d ok, %d errors, %d cut off by the deadline", s.Requests, s.OK, s.Errors, s.Cancelled))
	row("error rate", fmt.Sprintf("%.2f %%", 100*s.ErrorRate))
	if len(s.ErrorsByStatus) > 0 {
		row("errors by status", fmt.Sprint(s.ErrorsByStatus))
		row("first error", s.FirstError)
	}
	row("wall time", fmt.Sprintf("%.2f s", s.WallSeconds))
	row("requests/s", fmt.Sprintf("%.2f", s.RequestsPerSec))
	row("tokens/s (generated)", fmt.Sprintf("%.1f  (%d generated, %d prompt tokens)", s.TokensPerSec, s.GeneratedTokens, s.PromptTokens))
	row("latency p50/p95/p99/max", fmt.Sprintf("%s / %s / %s / %s", ms(s.Latency.P50), ms(s.Latency.P95), ms(s.Latency.P99), ms(s.Latency.Max)))
	if s.TTFT != nil {
		row("time to first token p50/p95/p99/max", fmt.Sprintf("%s / %s / %s / %s", ms(s.TTFT.P50), ms(s.TTFT.P95), ms(s.TTFT.P99), ms(s.TTFT.Max)))
	}
	return tw.Flush()
}
