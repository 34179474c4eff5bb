package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/headlight/headlight/internal/engine"
)

// OverheadRun is one pass of the items through the server and the engine,
// interleaved request by request.
type OverheadRun struct {
	Order         string  `json:"order"` // which side went first in the run's first pair
	ServerTokPerS float64 `json:"server_tokens_per_second"`
	EngineTokPerS float64 `json:"engine_tokens_per_second"`
	Ratio         float64 `json:"ratio"` // server / engine
	ServerTokens  int     `json:"server_tokens"`
	EngineTokens  int     `json:"engine_tokens"`
}

// Overhead is the server's cost at batch 1: the same greedy generations,
// one at a time, through POST /v1/completions and through engine.Generate
// on the same model.
type Overhead struct {
	Items        int           `json:"items"`
	Runs         []OverheadRun `json:"runs"`
	MedianRatio  float64       `json:"median_ratio"` // server tokens/s ÷ engine tokens/s
	OverheadFrac float64       `json:"overhead"`     // 1 − median ratio
	MedianServer float64       `json:"median_server_tokens_per_second"`
	MedianEngine float64       `json:"median_engine_tokens_per_second"`
}

// side is one request's outcome on one side: tokens, text and time.
type side struct {
	n    int
	text string
	d    time.Duration
}

// MeasureOverhead runs items runs times through the server at base (one
// request at a time, greedy, not streamed) and through the engine called
// directly on the same loaded model, text in and text out as an
// application would call it: encode the prompt (with BOS, as the server
// does), engine.Generate (stopping at BOS or EOS), turn the tokens into
// text piece by piece. The two sides take turns request by request (who
// goes first alternating), so that the host's drift hits both alike; a
// run's ratio is server tokens/s ÷ engine tokens/s over its items. Both
// sides must generate the same tokens and text for every request: greedy
// decoding of the same model is deterministic.
//
// The server side is one keep-alive connection written and read by the
// measuring goroutine itself (conn), so that the client's own goroutine
// hand-offs are not counted as the server's.
func MeasureOverhead(ctx context.Context, base string, ld *engine.Loaded, items []Item, runs int) (Overhead, error) {
	if runs < 1 || len(items) == 0 {
		return Overhead{}, fmt.Errorf("loadgen: overhead needs ≥ 1 run and ≥ 1 item (have %d, %d)", runs, len(items))
	}
	c, err := dial(base)
	if err != nil {
		return Overhead{}, err
	}
	defer c.Close()
	cfg := Config{Temperature: 0}
	// serve and direct run one item one way.
	serve := func(it Item) (side, error) {
		t0 := time.Now()
		text, k, err := c.complete(ctx, cfg, it)
		if err != nil {
			return side{}, fmt.Errorf("loadgen: server pass: %w", err)
		}
		return side{k, text, time.Since(t0)}, nil
	}
	direct := func(it Item) (side, error) { return direct(ctx, ld, it) }
	o := Overhead{Items: len(items)}
	var rs rates
	for r := range runs {
		// The two sides take turns request by request, who goes first
		// alternating, so that the host's drift hits both alike.
		run := OverheadRun{Order: "interleaved, server first"}
		if r%2 == 1 {
			run.Order = "interleaved, engine first"
		}
		var sd, ed time.Duration
		for i, it := range items {
			var s, e side
			var err error
			if (r+i)%2 == 0 {
				if s, err = serve(it); err == nil {
					e, err = direct(it)
				}
			} else if e, err = direct(it); err == nil {
				s, err = serve(it)
			}
			if err != nil {
				return o, err
			}
			if s.n != e.n || s.text != e.text {
				return o, fmt.Errorf("loadgen: request %d: the server answered %q (%d tokens) and the engine %q (%d tokens) for the same greedy request", i, s.text, s.n, e.text, e.n)
			}
			run.ServerTokens += s.n
			run.EngineTokens += e.n
			sd += s.d
			ed += e.d
		}
		run.ServerTokPerS, run.EngineTokPerS, run.Ratio = rs.add(run.ServerTokens, sd, run.EngineTokens, ed)
		o.Runs = append(o.Runs, run)
	}
	o.MedianRatio, o.MedianServer, o.MedianEngine = rs.medians()
	o.OverheadFrac = 1 - o.MedianRatio
	return o, nil
}

// rates collects the runs' tokens/s of both sides and their ratios.
type rates struct{ ratio, server, engine []float64 }

// add records a run: sn tokens in sd through the server, en in ed through
// the engine; it returns both rates and their ratio (server ÷ engine).
func (rs *rates) add(sn int, sd time.Duration, en int, ed time.Duration) (server, engine, ratio float64) {
	server, engine = float64(sn)/sd.Seconds(), float64(en)/ed.Seconds()
	ratio = server / engine
	rs.ratio, rs.server, rs.engine = append(rs.ratio, ratio), append(rs.server, server), append(rs.engine, engine)
	return server, engine, ratio
}

// medians are the median ratio, server and engine tokens/s.
func (rs *rates) medians() (ratio, server, engine float64) {
	return Median(rs.ratio), Median(rs.server), Median(rs.engine)
}

// direct runs one greedy item through the engine as an application would:
// encode the prompt (with BOS, as the server does), engine.Generate
// (stopping at BOS or EOS), turn the tokens into text piece by piece.
func direct(ctx context.Context, ld *engine.Loaded, it Item) (side, error) {
	t0 := time.Now()
	tok := ld.Tokenizer
	prompt := tok.Encode(it.Prompt, true, false)
	out, err := engine.Generate(ctx, ld.Model, engine.Request{Prompt: prompt, MaxTokens: it.MaxTokens, Stop: []int{tok.BOS(), tok.EOS()}}, nil)
	if err != nil {
		return side{}, fmt.Errorf("loadgen: engine pass: %w", err)
	}
	var text strings.Builder
	prev := prompt[len(prompt)-1]
	for _, id := range out {
		text.WriteString(ld.Piece(prev, id))
		prev = id
	}
	return side{len(out), text.String(), time.Since(t0)}, nil
}
