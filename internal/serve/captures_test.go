package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	// 3 × 3 map stored with stride 4 (the 4th column is padding).
	m := []float32{
		1, 0, 0, 99,
		0.25, 0.75, 0, 99,
		0.5, nan, 0.5, 99,
	}
	got := topK(m, 3, 4, 2)
	if !reflect.DeepEqual(got[0], topRow{Index: []int{0}, Weight: []float32{1}}) {
		t.Errorf("row 0: %+v (zero weights and the padding column must not count)", got[0])
	}
	if !reflect.DeepEqual(got[1], topRow{Index: []int{1, 0}, Weight: []float32{0.75, 0.25}}) {
		t.Errorf("row 1: %+v", got[1])
	}
	if !reflect.DeepEqual(got[2], topRow{Index: []int{0, 2}, Weight: []float32{0.5, 0.5}, NaN: 1}) {
		t.Errorf("row 2: %+v (ties: lower index first; NaN counted, not kept)", got[2])
	}
	if r := topK([]float32{nan}, 1, 1, 8)[0]; len(r.Index) != 0 || r.Index == nil || r.NaN != 1 {
		t.Errorf("all-NaN row: %+v", r)
	}
}

func TestCaptureHeads(t *testing.T) {
	spec, err := ParseCaptureHeads("0:0, 2:3,-1:*,0:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadDefault(t).Model.Config() // 5 layers × 8 heads
	got, err := resolveCaptureHeads(spec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []mapRef{{0, 0}, {2, 3}}
	for h := range cfg.Heads {
		want = append(want, mapRef{cfg.Layers - 1, h})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolved %v, want %v", got, want)
	}
	if def, _ := resolveCaptureHeads(nil, cfg); len(def) != cfg.Heads || def[0] != (mapRef{cfg.Layers - 1, 0}) {
		t.Errorf("default: %v, want every head of the last layer", def)
	}
	for _, bad := range []string{"1", "a:1", "1:-2", "1:x"} {
		if _, err := ParseCaptureHeads(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, bad := range []CaptureHead{{5, 0}, {-6, 0}, {0, 8}} {
		if _, err := resolveCaptureHeads([]CaptureHead{bad}, cfg); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// getJSON fetches path into v and returns the status.
func (ts *testServer) getJSON(t *testing.T, path string, v any) int {
	t.Helper()
	resp, err := http.Get(ts.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode
}

type captureList struct {
	Object string
	Data   []captureSummary
}

// TestCaptureRestart: with --capture-sample 1 a completion keeps the top-k
// attention of every head of the last layer over its prompt, equal to the
// full maps /v1/attention returns; tokens are hashed, not kept; the
// capture is counted, listed, and still there after a restart on the same
// file; past --capture-max the oldest go.
func TestCaptureRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "captures.db")
	edit := func(o *Options) { o.CaptureDB, o.CaptureSample, o.CaptureMax = db, 1, 2 }
	ts := start(t, edit)
	const prompt = "Once upon a time"
	if status, _, body := ts.post(t, "/v1/completions", map[string]any{"prompt": prompt, "max_tokens": 4}); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var list captureList
	eventually(t, "capture stored", func() bool {
		return metric(t, ts.reg, "headlight_attention_captures_total", map[string]string{"model": "stories260K", "reason": "sampled"}) == 1
	})
	if status := ts.getJSON(t, "/v1/captures", &list); status != 200 || len(list.Data) != 1 {
		t.Fatalf("list: %d %+v", status, list)
	}
	s := list.Data[0]
	if s.Reason != "sampled" || s.Model != "stories260K" || s.PromptTokens != 5 || s.TopK != 8 || len(s.Heads) != 8 || s.Heads[0] != (mapRef{4, 0}) {
		t.Errorf("summary: %+v", s)
	}
	// Full maps of the same prompt, for comparison.
	var att struct {
		Tokens []struct{ ID int }
		Maps   []headMap
	}
	var maps []map[string]int
	for h := range 8 {
		maps = append(maps, map[string]int{"layer": 4, "head": h})
	}
	_, _, body := ts.post(t, "/v1/attention", map[string]any{"text": prompt, "maps": maps})
	if err := json.Unmarshal(body, &att); err != nil || len(att.Maps) != 8 {
		t.Fatalf("attention: %s", body)
	}

	ts.stop()
	if err := <-ts.done; err != nil {
		t.Fatal(err)
	}
	ts.done <- nil
	ts2 := start(t, edit)
	var rec captureRecord
	if status := ts2.getJSON(t, "/v1/captures/"+s.ID, &rec); status != 200 {
		t.Fatalf("capture %s after restart: %d", s.ID, status)
	}
	if len(rec.TokenList) != 5 || len(rec.Maps) != 8 {
		t.Fatalf("capture: %d tokens, %d maps", len(rec.TokenList), len(rec.Maps))
	}
	for i, tk := range rec.TokenList {
		if tk.ID != att.Tokens[i].ID || len(tk.Hash) != 16 || tk.Text != "" {
			t.Errorf("token %d: %+v (want id %d, a 16-digit hash, no text)", i, tk, att.Tokens[i].ID)
		}
	}
	for m, cm := range rec.Maps {
		full := att.Maps[m].Weights
		if cm.Layer != 4 || cm.Head != m || len(cm.Rows) != 5 {
			t.Fatalf("map %d: layer %d head %d, %d rows", m, cm.Layer, cm.Head, len(cm.Rows))
		}
		for i, row := range cm.Rows {
			if len(row.Index) != min(i+1, 8) {
				t.Errorf("map %d row %d: %d weights kept, want %d", m, i, len(row.Index), min(i+1, 8))
			}
			for k, j := range row.Index {
				if math.Abs(float64(row.Weight[k]-full[i][j])) > 1e-5 || (k > 0 && row.Weight[k] > row.Weight[k-1]) {
					t.Errorf("map %d row %d: key %d weight %v, full map %v", m, i, j, row.Weight[k], full[i][j])
				}
			}
			sorted := slices.Clone(full[i])
			slices.Sort(sorted)
			if math.Abs(float64(row.Weight[0]-sorted[len(sorted)-1])) > 1e-5 {
				t.Errorf("map %d row %d: top weight %v, the row's max %v", m, i, row.Weight[0], sorted[len(sorted)-1])
			}
		}
	}
	// Retention: two more captures leave the newest two.
	for range 2 {
		ts2.post(t, "/v1/completions", map[string]any{"prompt": "Hi", "max_tokens": 2})
	}
	eventually(t, "two more captures", func() bool {
		return metric(t, ts2.reg, "headlight_attention_captures_total", map[string]string{"reason": "sampled"}) == 2
	})
	ts2.getJSON(t, "/v1/captures", &list)
	if len(list.Data) != 2 || list.Data[0].ID <= list.Data[1].ID || list.Data[0].ID == s.ID || list.Data[1].ID == s.ID {
		t.Errorf("after retention: %+v", list.Data)
	}
	var e errorBody
	if status := ts2.getJSON(t, "/v1/captures/"+s.ID, &e); status != 404 || e.Error.Code != "capture_not_found" {
		t.Errorf("deleted capture: %d %+v", status, e)
	}
	if status := ts2.getJSON(t, "/v1/captures?limit=1", &list); status != 200 || len(list.Data) != 1 {
		t.Errorf("limit 1: %d, %d entries", status, len(list.Data))
	}
	if status := ts2.getJSON(t, "/v1/captures?limit=0", &e); status != 400 {
		t.Errorf("limit 0: %d", status)
	}
}

// TestCaptureNaN: with sampling off, a request stopped by the NaN guard is
// still captured, with the guard's finding and NaN-only rows in the
// poisoned head; without --capture-db the endpoints say capture is off.
func TestCaptureNaN(t *testing.T) {
	db := filepath.Join(t.TempDir(), "c.db")
	ts := start(t, func(o *Options) {
		o.CaptureDB, o.CaptureSample, o.CaptureRawTokens = db, 0, true
		o.CaptureHeads = []CaptureHead{{2, 3}, {1, 0}}
	}, loadDefault(t), poisoned(t))
	ts.post(t, "/v1/completions", map[string]any{"prompt": "Once upon", "max_tokens": 3})
	status, _, body := ts.post(t, "/v1/completions", map[string]any{"model": "poisoned", "prompt": "Once upon", "max_tokens": 3})
	wantError(t, "poisoned", status, body, 500, "nan_in_attention")
	eventually(t, "NaN capture", func() bool {
		return metric(t, ts.reg, "headlight_attention_captures_total", map[string]string{"model": "poisoned", "reason": "nan"}) == 1
	})
	var list captureList
	ts.getJSON(t, "/v1/captures", &list)
	if len(list.Data) != 1 || list.Data[0].Model != "poisoned" || list.Data[0].NaN == nil || *list.Data[0].NaN == (nanInfo{}) {
		t.Fatalf("captures: %+v (the sampled-out healthy request must not be there)", list.Data)
	}
	if n := list.Data[0].NaN; n.Layer != 2 || n.Head != 3 || n.Count <= 0 {
		t.Errorf("NaN finding %+v, want layer 2 head 3", n)
	}
	var rec captureRecord
	ts.getJSON(t, fmt.Sprintf("/v1/captures/%s", list.Data[0].ID), &rec)
	if len(rec.Maps) != 2 || rec.Maps[0].Layer != 1 || rec.Maps[1].Layer != 2 || rec.TokenList[1].Text == "" {
		t.Fatalf("capture: %d maps, tokens %+v", len(rec.Maps), rec.TokenList)
	}
	for i, row := range rec.Maps[1].Rows {
		if row.NaN == 0 || len(row.Index) != 0 {
			t.Errorf("poisoned head row %d: %+v, want only NaN", i, row)
		}
	}
	for i, row := range rec.Maps[0].Rows {
		if row.NaN != 0 || len(row.Index) == 0 {
			t.Errorf("healthy head row %d: %+v", i, row)
		}
	}
	off := start(t, nil)
	var e errorBody
	if status := off.getJSON(t, "/v1/captures", &e); status != 404 || e.Error.Code != "captures_off" {
		t.Errorf("capture off: %d %+v", status, e)
	}
}
