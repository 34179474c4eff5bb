package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/headlight/headlight/internal/engine"
)

// ThroughputRun is one pass of the items through a server that runs one
// request at a time, kept busy by several clients, and one pass through
// the engine called back to back.
type ThroughputRun struct {
	First         string  `json:"first"` // "server" or "engine"
	ServerTokPerS float64 `json:"server_tokens_per_second"`
	EngineTokPerS float64 `json:"engine_tokens_per_second"`
	Ratio         float64 `json:"ratio"` // server / engine
}

// Throughput is the server's throughput at batch 1 against the engine's:
// the same greedy generations through a server whose batches hold one
// request (--max-batch 1) with Clients requests in flight, so that the
// model never waits for HTTP, and through engine.Generate one after the
// other. Batching cannot help the server here; what it loses is its own
// cost per request and per decoding step.
type Throughput struct {
	Items        int             `json:"items"`
	Clients      int             `json:"clients"`
	Runs         []ThroughputRun `json:"runs"`
	MedianRatio  float64         `json:"median_ratio"`
	OverheadFrac float64         `json:"overhead"` // 1 − median ratio
	MedianServer float64         `json:"median_server_tokens_per_second"`
	MedianEngine float64         `json:"median_engine_tokens_per_second"`
}

// MeasureThroughput runs items runs times through the server at base
// (which must run one request per batch: the caller starts it with
// MaxBatch 1), clients connections sending the items in order as each
// finishes its last, and through the engine on ld back to back; the two
// sides alternate run by run (who goes first alternating). Every request
// must produce the same text and token count on both sides.
func MeasureThroughput(ctx context.Context, base string, ld *engine.Loaded, items []Item, runs, clients int) (Throughput, error) {
	if runs < 1 || len(items) == 0 || clients < 1 {
		return Throughput{}, fmt.Errorf("loadgen: throughput needs ≥ 1 run, item and client (have %d, %d, %d)", runs, len(items), clients)
	}
	conns := make([]*conn, clients)
	for i := range conns {
		c, err := dial(base)
		if err != nil {
			return Throughput{}, err
		}
		defer c.Close()
		conns[i] = c
	}
	want := make([]side, len(items)) // the engine's answers
	serverPass := func() (tokens int, d time.Duration, err error) {
		got := make([]side, len(items))
		var mu sync.Mutex
		next := 0
		var wg sync.WaitGroup
		errs := make([]error, clients)
		t0 := time.Now()
		for ci, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= len(items) {
						return
					}
					text, k, err := c.complete(ctx, Config{Temperature: 0}, items[i])
					if err != nil {
						errs[ci] = fmt.Errorf("loadgen: server pass: %w", err)
						return
					}
					got[i] = side{n: k, text: text}
				}
			}()
		}
		wg.Wait()
		d = time.Since(t0)
		for _, err := range errs {
			if err != nil {
				return 0, 0, err
			}
		}
		for i, g := range got {
			if g.n != want[i].n || g.text != want[i].text {
				return 0, 0, fmt.Errorf("loadgen: request %d: the server answered %q (%d tokens) and the engine %q (%d tokens) for the same greedy request", i, g.text, g.n, want[i].text, want[i].n)
			}
			tokens += g.n
		}
		return tokens, d, nil
	}
	enginePass := func() (tokens int, d time.Duration, err error) {
		t0 := time.Now()
		for i, it := range items {
			s, err := direct(ctx, ld, it)
			if err != nil {
				return 0, 0, err
			}
			want[i] = s
			tokens += s.n
		}
		return tokens, time.Since(t0), nil
	}
	// A first engine pass fills want, so that every server pass is checked.
	if _, _, err := enginePass(); err != nil {
		return Throughput{}, err
	}
	t := Throughput{Items: len(items), Clients: clients}
	var rs rates
	for r := range runs {
		run := ThroughputRun{First: "server"}
		var sn, en int
		var sd, ed time.Duration
		var err error
		if r%2 == 0 {
			if sn, sd, err = serverPass(); err == nil {
				en, ed, err = enginePass()
			}
		} else {
			run.First = "engine"
			if en, ed, err = enginePass(); err == nil {
				sn, sd, err = serverPass()
			}
		}
		if err != nil {
			return t, err
		}
		if sn != en {
			return t, fmt.Errorf("loadgen: the server generated %d tokens and the engine %d for the same greedy requests", sn, en)
		}
		run.ServerTokPerS, run.EngineTokPerS, run.Ratio = rs.add(sn, sd, en, ed)
		t.Runs = append(t.Runs, run)
	}
	t.MedianRatio, t.MedianServer, t.MedianEngine = rs.medians()
	t.OverheadFrac = 1 - t.MedianRatio
	return t, nil
}
