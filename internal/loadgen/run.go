package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config bounds a run: it ends after Requests requests or Duration,
// whichever comes first. Requests still running at the deadline are
// cancelled and counted as Cancelled, not as errors.
type Config struct {
	BaseURL     string // http://host:port on loopback (see BaseURL)
	Model       string // "" = the server's default
	Requests    int    // ≥ 1
	Duration    time.Duration
	Concurrency int // clients sending back to back, ≥ 1
	Stream      bool
	Temperature float64
	Client      *http.Client // nil: a loopback-only client (see NewClient)
}

// Record is the outcome of one request.
type Record struct {
	Start      time.Duration // since the run began
	Latency    time.Duration // until the whole answer was read
	TTFT       time.Duration // streaming: until the first text; 0 otherwise
	Tokens     int           // completion tokens (usage)
	Status     int           // HTTP status; 0 when the request failed before one
	Err        string        // "" on success
	Cancelled  bool          // cut off by the run's deadline
	PromptToks int           // usage.prompt_tokens
}

// NewClient is an HTTP client that dials loopback addresses only (names
// are resolved, and every resolved address must be loopback).
func NewClient(concurrency int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		MaxIdleConnsPerHost: max(concurrency, 1) + 1,
		DisableCompression:  true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if !ip.Unmap().IsLoopback() {
					return nil, fmt.Errorf("loadgen: %s resolves to %s, which is not loopback", host, ip)
				}
			}
			if len(ips) == 0 {
				return nil, fmt.Errorf("loadgen: %s does not resolve", host)
			}
			return d.DialContext(ctx, network, net.JoinHostPort(ips[0].Unmap().String(), port))
		},
	}
	return &http.Client{Transport: tr}
}

// Run sends items in order (cycling if there are fewer than Requests)
// from Concurrency clients and returns one record per request sent, in
// the order they were sent, and the wall time of the run.
func Run(ctx context.Context, cfg Config, items []Item) ([]Record, time.Duration, error) {
	base, err := BaseURL(cfg.BaseURL)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case cfg.Requests < 1:
		return nil, 0, fmt.Errorf("loadgen: requests %d must be ≥ 1", cfg.Requests)
	case cfg.Concurrency < 1:
		return nil, 0, fmt.Errorf("loadgen: concurrency %d must be ≥ 1", cfg.Concurrency)
	case cfg.Duration <= 0:
		return nil, 0, fmt.Errorf("loadgen: duration %v must be positive", cfg.Duration)
	case len(items) == 0:
		return nil, 0, errors.New("loadgen: no items")
	}
	client := cfg.Client
	if client == nil {
		client = NewClient(cfg.Concurrency)
		defer client.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	type indexed struct {
		i   int
		rec Record
	}
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	done := make([][]indexed, cfg.Concurrency) // per client
	t0 := time.Now()
	for c := range cfg.Concurrency {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				if i >= cfg.Requests || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				done[c] = append(done[c], indexed{i, one(ctx, client, base, cfg, items[i%len(items)], t0)})
			}
		})
	}
	wg.Wait()
	wall := time.Since(t0)
	records := make([]Record, next)
	for _, d := range done {
		for _, x := range d {
			records[x.i] = x.rec
		}
	}
	return records, wall, nil
}

// one sends one completion request and reads the whole answer.
func one(ctx context.Context, client *http.Client, base string, cfg Config, it Item, t0 time.Time) (rec Record) {
	start := time.Now()
	rec.Start = start.Sub(t0)
	defer func() {
		rec.Latency = time.Since(start)
		if rec.Err != "" && ctx.Err() != nil && (rec.Status == 0 || rec.Status == http.StatusOK) {
			rec.Cancelled = true
		}
	}()
	body := map[string]any{"prompt": it.Prompt, "max_tokens": it.MaxTokens, "temperature": cfg.Temperature, "seed": it.Seed}
	if cfg.Model != "" {
		body["model"] = cfg.Model
	}
	if cfg.Stream {
		body["stream"] = true
		body["stream_options"] = map[string]bool{"include_usage": true}
	}
	js, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/completions", bytes.NewReader(js))
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		rec.Err = fmt.Sprintf("status %d: %s", resp.StatusCode, errorMessage(b))
		return rec
	}
	if !cfg.Stream {
		var c completion
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			rec.Err = "decoding the answer: " + err.Error()
			return rec
		}
		rec.Tokens, rec.PromptToks = c.Usage.CompletionTokens, c.Usage.PromptTokens
		return rec
	}
	if err := readStream(resp.Body, &rec, start); err != nil {
		rec.Err = err.Error()
	}
	return rec
}

// completion is the part of a text_completion (or chunk) the load
// generator reads.
type completion struct {
	Choices []struct {
		Text string `json:"text"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// readStream reads server-sent events until "data: [DONE]", noting the
// time of the first text and the usage chunk.
func readStream(r io.Reader, rec *Record, start time.Time) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue // blank separators, comments
		}
		if data == "[DONE]" {
			return nil
		}
		var c completion
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return fmt.Errorf("bad event %q: %w", data, err)
		}
		if c.Error != nil {
			return fmt.Errorf("error event: %s (%s)", c.Error.Message, c.Error.Code)
		}
		if rec.TTFT == 0 && len(c.Choices) > 0 && c.Choices[0].Text != "" {
			rec.TTFT = time.Since(start)
		}
		if c.Usage.CompletionTokens > 0 || c.Usage.PromptTokens > 0 {
			rec.Tokens, rec.PromptToks = c.Usage.CompletionTokens, c.Usage.PromptTokens
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("stream ended without [DONE]")
}

// errorMessage extracts the message of a JSON error body, or the body.
func errorMessage(b []byte) string {
	var c completion
	if json.Unmarshal(b, &c) == nil && c.Error != nil {
		return c.Error.Code + ": " + c.Error.Message
	}
	return strings.TrimSpace(string(b))
}
