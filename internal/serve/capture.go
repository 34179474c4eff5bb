package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/telemetry"
	"github.com/headlight/headlight/internal/tensor"
)

// CaptureHead names heads whose attention maps are captured: Layer < 0
// counts from the last layer (-1 is the last), Head < 0 means every head.
type CaptureHead struct{ Layer, Head int }

// ParseCaptureHeads reads --capture-heads: comma-separated LAYER:HEAD pairs
// such as "0:0,2:3"; LAYER may be negative (-1 the last layer) and HEAD
// may be * (every head of the layer). "" is the default, -1:*.
func ParseCaptureHeads(s string) ([]CaptureHead, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []CaptureHead
	for _, f := range strings.Split(s, ",") {
		ls, hs, ok := strings.Cut(strings.TrimSpace(f), ":")
		l, err := strconv.Atoi(ls)
		if !ok || err != nil {
			return nil, fmt.Errorf("capture head %q: want LAYER:HEAD (HEAD may be *)", f)
		}
		h := -1
		if hs != "*" {
			if h, err = strconv.Atoi(hs); err != nil || h < 0 {
				return nil, fmt.Errorf("capture head %q: want LAYER:HEAD (HEAD ≥ 0 or *)", f)
			}
		}
		out = append(out, CaptureHead{l, h})
	}
	return out, nil
}

// resolveCaptureHeads turns the option into the (layer, head) pairs of a
// model, in order and without repeats (nil: all heads of the last layer).
func resolveCaptureHeads(spec []CaptureHead, cfg model.Config) ([]mapRef, error) {
	if len(spec) == 0 {
		spec = []CaptureHead{{-1, -1}}
	}
	seen := map[mapRef]bool{}
	var out []mapRef
	for _, c := range spec {
		l := c.Layer
		if l < 0 {
			l += cfg.Layers
		}
		if l < 0 || l >= cfg.Layers || c.Head >= cfg.Heads {
			return nil, fmt.Errorf("capture head %d:%d does not exist: layers 0…%d (or -1…-%d), heads 0…%d", c.Layer, c.Head, cfg.Layers-1, cfg.Layers, cfg.Heads-1)
		}
		for h := 0; h < cfg.Heads; h++ {
			if (c.Head < 0 || c.Head == h) && !seen[mapRef{l, h}] {
				seen[mapRef{l, h}] = true
				out = append(out, mapRef{l, h})
			}
		}
	}
	return out, nil
}

// Capture reasons (the reason label and field).
const (
	reasonSampled = "sampled"
	reasonNaN     = "nan"
)

// captureSummary is one entry of GET /v1/captures.
type captureSummary struct {
	ID           string    `json:"id"`
	Time         time.Time `json:"time"`
	Model        string    `json:"model"`
	Version      string    `json:"version"`
	Reason       string    `json:"reason"`
	PromptTokens int       `json:"prompt_tokens"`
	Tokens       int       `json:"tokens"` // captured positions: the prompt, plus the generated tokens for "nan"
	Heads        []mapRef  `json:"heads"`
	TopK         int       `json:"top_k"`
	TraceID      string    `json:"trace_id,omitempty"`
	NaN          *nanInfo  `json:"nan,omitempty"`
	Skipped      string    `json:"maps_skipped,omitempty"` // why there are no maps
}

// nanInfo is the NaN guard's finding behind a "nan" capture.
type nanInfo struct {
	Count int64 `json:"count"`
	Layer int   `json:"layer"`
	Head  int   `json:"head"`
}

// captureRecord is a whole capture: GET /v1/captures/{id}.
type captureRecord struct {
	captureSummary
	TokenList []capturedToken `json:"token_list"`
	Maps      []capturedMap   `json:"maps"`
}

// capturedToken is one position: its id, a salted SHA-256 prefix of its
// vocabulary text, and the text itself only with --capture-raw-tokens.
type capturedToken struct {
	ID   int    `json:"id"`
	Hash string `json:"hash"`
	Text string `json:"text,omitempty"`
}

// capturedMap is one head's map, top-k per query row.
type capturedMap struct {
	Layer int      `json:"layer"`
	Head  int      `json:"head"`
	Rows  []topRow `json:"rows"`
}

// topRow is the k largest weights of one query row, largest first, as
// parallel arrays of key index and weight; zero weights (masked keys) are
// left out, and so are NaN weights, which NaN counts.
type topRow struct {
	Index  []int     `json:"index"`
	Weight []float32 `json:"weight"`
	NaN    int       `json:"nan,omitempty"`
}

// topK reduces an n × n map stored with row stride stride to its top-k
// rows (ties: the lower index first).
func topK(m []float32, n, stride, k int) []topRow {
	rows := make([]topRow, n)
	for i := range rows {
		r := &rows[i]
		for j, w := range m[i*stride : i*stride+n] {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				r.NaN++
				continue
			}
			if w <= 0 { // masked or underflowed keys
				continue
			}
			if len(r.Weight) == k && w <= r.Weight[k-1] {
				continue
			}
			p := len(r.Weight)
			for p > 0 && r.Weight[p-1] < w {
				p--
			}
			if len(r.Weight) < k {
				r.Index, r.Weight = append(r.Index, 0), append(r.Weight, 0)
			}
			copy(r.Index[p+1:], r.Index[p:])
			copy(r.Weight[p+1:], r.Weight[p:])
			r.Index[p], r.Weight[p] = j, w
		}
		if r.Index == nil {
			r.Index, r.Weight = []int{}, []float32{}
		}
	}
	return rows
}

// tokenHash is the redacted form of a token's text: the first 8 bytes of
// SHA-256(salt ‖ text), hex.
func tokenHash(salt []byte, text string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(text))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// captureSample decides whether a completion request keeps its maps.
func (s *Server) captureSample() bool {
	if s.captures == nil {
		return false
	}
	return s.opts.CaptureSample >= 1 || rand.Float64() < s.opts.CaptureSample
}

// captureRequest installs on st the capture of the prompt maps of the
// sequences joining at this step (slots joined) that asked for it (clear
// st.Capture after the step). seq is the step's padded length; a
// sequence's maps go to its maps field.
func (w *worker) captureRequest(st *model.State, seqs []*sequence, joined []int, seq int) {
	byLayer := make([][]attention.HeadRef, w.cfg.Layers) // (layer) heads asked
	wanted := false
	for _, b := range joined {
		if !seqs[b].j.capture {
			continue
		}
		wanted = true
		for _, h := range w.capHeads {
			byLayer[h.Layer] = append(byLayer[h.Layer], attention.HeadRef{Batch: b, Head: h.Head})
		}
	}
	if !wanted {
		return
	}
	st.Capture = func(l int) []attention.HeadRef { return byLayer[l] }
	st.OnMaps = func(l int, heads []attention.HeadRef, got [][]float32) {
		for i, hr := range heads {
			s := seqs[hr.Batch]
			n := len(s.j.prompt)
			stride := len(got[i]) / seq // (seq, keys): the keys of the longest slot
			s.maps = append(s.maps, capturedMap{Layer: l, Head: hr.Head, Rows: topK(got[i], n, stride, w.opts.CaptureTopK)})
		}
	}
}

// newCapture assembles a capture of job j over tokens.
func (w *worker) newCapture(j *job, reason string, tokens []int, maps []capturedMap) *captureRecord {
	c := &captureRecord{captureSummary: captureSummary{Time: time.Now().UTC(), Model: w.name, Version: w.version, Reason: reason,
		PromptTokens: len(j.prompt), Tokens: len(tokens), Heads: w.capHeads, TopK: w.opts.CaptureTopK, TraceID: traceID(j.ctx)},
		Maps: maps}
	for _, id := range tokens {
		text := w.ld.Tokenizer.TokenText(id)
		t := capturedToken{ID: id, Hash: tokenHash(w.captures.salt, text)}
		if w.opts.CaptureRawTokens {
			t.Text = text
		}
		c.TokenList = append(c.TokenList, t)
	}
	if c.Maps == nil {
		c.Maps = []capturedMap{}
	}
	return c
}

// nanCapture is a request stopped by the NaN guard whose maps are to be
// captured after the step that stopped it.
type nanCapture struct {
	j      *job
	tokens []int // the positions fed so far: prompt + generated tokens
	bad    telemetry.Bad
}

// runNaNCaptures recomputes, for each request the NaN guard stopped in the
// step that just ran, one forward pass over its positions with the maps
// of the capture heads, and stores the capture. It runs within reserved
// bytes (a slot's share of the batch's reservation, still held), plus whatever more it needs from the budget;
// if that is not free the capture is stored without maps.
func (w *worker) runNaNCaptures(reserved int64) {
	pending := w.nanCaps
	w.nanCaps = nil
	for _, nc := range pending {
		rec := w.newCapture(nc.j, reasonNaN, nc.tokens, nil)
		rec.NaN = &nanInfo{Count: nc.bad.Count, Layer: nc.bad.Layer, Head: nc.bad.Head}
		n := len(nc.tokens)
		extra := attentionBytes(w.cfg, n, len(w.capHeads)) - reserved
		if ok, _ := w.budget.tryReserve(max(extra, 0)); !ok {
			rec.Skipped = "memory_budget"
			w.captures.add(rec)
			continue
		}
		rec.Maps = w.recomputeMaps(nc.tokens)
		if rec.Maps == nil {
			rec.Maps, rec.Skipped = []capturedMap{}, "forward_failed"
		}
		w.budget.release(max(extra, 0))
		w.captures.add(rec)
	}
}

// recomputeMaps runs tokens through the model alone and returns the
// capture heads' maps (nil if the forward pass failed).
func (w *worker) recomputeMaps(tokens []int) (out []capturedMap) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("NaN capture panicked", "model", w.name, "panic", fmt.Sprint(r))
			out = nil
		}
	}()
	n := len(tokens)
	st := model.NewState(w.cfg, 1, n, tensor.F32)
	byLayer := make([][]attention.HeadRef, w.cfg.Layers)
	for _, h := range w.capHeads {
		byLayer[h.Layer] = append(byLayer[h.Layer], attention.HeadRef{Head: h.Head})
	}
	st.Capture = func(l int) []attention.HeadRef { return byLayer[l] }
	out = []capturedMap{}
	st.OnMaps = func(l int, heads []attention.HeadRef, got [][]float32) {
		for i, hr := range heads {
			out = append(out, capturedMap{Layer: l, Head: hr.Head, Rows: topK(got[i], n, n, w.opts.CaptureTopK)})
		}
	}
	if _, err := w.ld.Model.Forward(st, tokens, n, nil, true); err != nil {
		w.log.Error("NaN capture failed", "model", w.name, "err", err)
		return nil
	}
	return out
}
