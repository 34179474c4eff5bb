package serve

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"testing"
)

// TestAttentionEndpoint: tokens with ids and offsets, a 5 × 8 table of
// head statistics in range, and the asked maps: causal, rows summing to 1,
// and consistent with the statistics (a map's mean max weight is the
// table's).
func TestAttentionEndpoint(t *testing.T) {
	ld := loadDefault(t)
	ts := start(t, nil, ld)
	text := "Once upon a time, Lily saw a cat."
	status, _, body := ts.post(t, "/v1/attention", map[string]any{"model": "stories260K", "text": text,
		"maps": []map[string]int{{"layer": 0, "head": 1}, {"layer": 4, "head": 7}}})
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var out struct {
		Object string
		Tokens []struct {
			ID         int
			Piece      string
			Text       string
			Start, End int
		}
		Layers, Heads int
		Stats         [][]struct {
			Entropy    float64
			MaxWeight  float64 `json:"max_weight"`
			OutputNorm float64 `json:"output_norm"`
		}
		Maps []struct {
			Layer, Head int
			Weights     [][]float64
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	ids := ld.Tokenizer.Encode(text, true, false)
	n := len(ids)
	var got []int
	for _, tk := range out.Tokens {
		got = append(got, tk.ID)
		if tk.Text != text[tk.Start:tk.End] || tk.Piece == "" {
			t.Errorf("token %+v: text does not match its span", tk)
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("tokens %v, want %v", got, ids)
	}
	if out.Object != "attention" || out.Layers != 5 || out.Heads != 8 || len(out.Stats) != 5 {
		t.Fatalf("shape: object %q, %d layers × %d heads, %d stats rows", out.Object, out.Layers, out.Heads, len(out.Stats))
	}
	for l, row := range out.Stats {
		if len(row) != 8 {
			t.Fatalf("layer %d: %d heads", l, len(row))
		}
		for h, s := range row {
			// Mean entropy over rows attending to 1…n keys is at most the mean of log(i).
			if s.Entropy < 0 || s.Entropy > math.Log(float64(n)) || s.MaxWeight < 1/float64(n) || s.MaxWeight > 1 || !(s.OutputNorm > 0) {
				t.Errorf("layer %d head %d: %+v out of range", l, h, s)
			}
		}
	}
	if len(out.Maps) != 2 || out.Maps[0].Layer != 0 || out.Maps[0].Head != 1 || out.Maps[1].Layer != 4 || out.Maps[1].Head != 7 {
		t.Fatalf("maps: %d", len(out.Maps))
	}
	for _, m := range out.Maps {
		if len(m.Weights) != n {
			t.Fatalf("map %d/%d: %d rows, want %d", m.Layer, m.Head, len(m.Weights), n)
		}
		var meanMax float64
		for i, row := range m.Weights {
			var sum, mx float64
			for j, w := range row {
				if j > i && w != 0 {
					t.Fatalf("map %d/%d: query %d attends to future key %d (%v)", m.Layer, m.Head, i, j, w)
				}
				sum += w
				mx = math.Max(mx, w)
			}
			if len(row) != n || math.Abs(sum-1) > 1e-5 {
				t.Fatalf("map %d/%d row %d: %d columns summing to %v", m.Layer, m.Head, i, len(row), sum)
			}
			meanMax += mx / float64(n)
		}
		if d := math.Abs(meanMax - out.Stats[m.Layer][m.Head].MaxWeight); d > 1e-4 {
			t.Errorf("map %d/%d: mean max weight %v from the map, %v in the statistics", m.Layer, m.Head, meanMax, out.Stats[m.Layer][m.Head].MaxWeight)
		}
	}

	for _, bad := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"text": "hi", "maps": []map[string]int{{"layer": 5, "head": 0}}}, 400, "invalid_parameter"},
		{map[string]any{"text": "hi", "maps": []map[string]int{{"layer": 0, "head": -1}}}, 400, "invalid_parameter"},
		{map[string]any{"maps": []map[string]int{}}, 400, "invalid_parameter"},
		{map[string]any{"model": "nope", "text": "hi"}, 404, "model_not_found"},
		{`{"text": 3}`, 400, "invalid_json"},
	} {
		status, _, body := ts.post(t, "/v1/attention", bad.body)
		wantError(t, "attention", status, body, bad.status, bad.code)
	}
}
