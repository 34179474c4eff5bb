package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/headlight/headlight/internal/engine"
)

// OverheadRun is one server pass and one engine pass over the same items.
type OverheadRun struct {
	Order         string  `json:"order"` // "server,engine" or "engine,server"
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

// MeasureOverhead runs items runs times through the server at base (one
// request at a time, greedy, not streamed) and through the engine called
// directly on the same loaded model, text in and text out as an
// application would call it: encode the prompt (with BOS, as the server
// does), engine.Generate (stopping at BOS or EOS), turn the tokens into
// text piece by piece. The order alternates between runs so that drift
// hits both sides. Both sides must generate the same number of tokens and
// the same text: greedy decoding of the same model is deterministic.
func MeasureOverhead(ctx context.Context, client *http.Client, base string, ld *engine.Loaded, items []Item, runs int) (Overhead, error) {
	if runs < 1 || len(items) == 0 {
		return Overhead{}, fmt.Errorf("loadgen: overhead needs ≥ 1 run and ≥ 1 item (have %d, %d)", runs, len(items))
	}
	base, err := BaseURL(base)
	if err != nil {
		return Overhead{}, err
	}
	tok := ld.Tokenizer
	cfg := Config{Temperature: 0}
	served, texts := make([]string, len(items)), make([]string, len(items))
	server := func() (int, time.Duration, error) {
		n, t0 := 0, time.Now()
		for i, it := range items {
			r := one(ctx, client, base, cfg, it, t0)
			if r.Err != "" {
				return 0, 0, fmt.Errorf("loadgen: server pass: %s", r.Err)
			}
			served[i] = r.text
			n += r.Tokens
		}
		return n, time.Since(t0), nil
	}
	direct := func() (int, time.Duration, error) {
		n, t0 := 0, time.Now()
		for i, it := range items {
			prompt := tok.Encode(it.Prompt, true, false)
			out, err := engine.Generate(ctx, ld.Model, engine.Request{Prompt: prompt, MaxTokens: it.MaxTokens, Stop: []int{tok.BOS(), tok.EOS()}}, nil)
			if err != nil {
				return 0, 0, fmt.Errorf("loadgen: engine pass: %w", err)
			}
			var text strings.Builder
			prev := prompt[len(prompt)-1]
			for _, id := range out {
				text.WriteString(ld.Piece(prev, id))
				prev = id
			}
			texts[i] = text.String()
			n += len(out)
		}
		return n, time.Since(t0), nil
	}
	o := Overhead{Items: len(items)}
	var ratios, srv, eng []float64
	for r := range runs {
		var run OverheadRun
		var sd, ed time.Duration
		var e1, e2 error
		if r%2 == 0 {
			run.Order = "server,engine"
			run.ServerTokens, sd, e1 = server()
			run.EngineTokens, ed, e2 = direct()
		} else {
			run.Order = "engine,server"
			run.EngineTokens, ed, e2 = direct()
			run.ServerTokens, sd, e1 = server()
		}
		if e1 != nil {
			return o, e1
		}
		if e2 != nil {
			return o, e2
		}
		if run.ServerTokens != run.EngineTokens {
			return o, fmt.Errorf("loadgen: the server generated %d tokens and the engine %d for the same greedy requests", run.ServerTokens, run.EngineTokens)
		}
		for i := range items {
			if served[i] != texts[i] {
				return o, fmt.Errorf("loadgen: request %d: the server answered %q and the engine %q", i, served[i], texts[i])
			}
		}
		run.ServerTokPerS = float64(run.ServerTokens) / sd.Seconds()
		run.EngineTokPerS = float64(run.EngineTokens) / ed.Seconds()
		run.Ratio = run.ServerTokPerS / run.EngineTokPerS
		o.Runs = append(o.Runs, run)
		ratios, srv, eng = append(ratios, run.Ratio), append(srv, run.ServerTokPerS), append(eng, run.EngineTokPerS)
	}
	o.MedianRatio, o.MedianServer, o.MedianEngine = Median(ratios), Median(srv), Median(eng)
	o.OverheadFrac = 1 - o.MedianRatio
	return o, nil
}
