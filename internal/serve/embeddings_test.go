package serve

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/engine"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/testutil"
)

func toyBERTDir(t *testing.T) string { return testutil.ToyBERTDir(t, "../..") }

func loadToyBERT(t *testing.T, name string) *engine.Embedder {
	t.Helper()
	pool := kernels.NewPool(2)
	t.Cleanup(pool.Close)
	em, err := engine.LoadEmbedder(toyBERTDir(t), attention.NewEngine(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	em.Name = name
	return em
}

type embeddingResponse struct {
	Object, Model string
	Data          []struct {
		Object    string
		Index     int
		Embedding []float32
	}
	Usage map[string]int
}

// TestEmbeddings: /v1/embeddings answers OpenAI's shape with the engine's
// normalised embeddings in input order, for a string or an array; decoders
// refuse it and the encoder refuses completions, each with a 400.
func TestEmbeddings(t *testing.T) {
	em := loadToyBERT(t, "bert")
	ts := start(t, func(o *Options) { o.Embedders = []*engine.Embedder{em} }, loadDefault(t))
	texts := []string{"the cat sat on the mat", "a dog ran", "the big dog ran in the park ."}
	want, err := engine.Embed(em.Model, em.Tokenizer, texts, true)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := ts.post(t, "/v1/embeddings", map[string]any{"model": "bert", "input": texts})
	var r embeddingResponse
	if err := json.Unmarshal(body, &r); err != nil || status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if r.Object != "list" || r.Model != "bert" || len(r.Data) != 3 || r.Usage["prompt_tokens"] != 8+5+10 || r.Usage["total_tokens"] != r.Usage["prompt_tokens"] {
		t.Errorf("response: %s", body)
	}
	for i, d := range r.Data {
		var n float64
		for c, v := range d.Embedding {
			n += float64(v) * float64(v)
			if v != want[i][c] {
				t.Fatalf("embedding %d differs from engine.Embed at %d", i, c)
			}
		}
		if d.Object != "embedding" || d.Index != i || len(d.Embedding) != 48 || math.Abs(n-1) > 1e-5 {
			t.Errorf("item %d: object %q index %d, %d values, squared norm %v", i, d.Object, d.Index, len(d.Embedding), n)
		}
	}
	status, _, body = ts.post(t, "/v1/embeddings", map[string]any{"model": "bert", "input": "a dog ran"})
	r = embeddingResponse{}
	if json.Unmarshal(body, &r); status != 200 || len(r.Data) != 1 || r.Data[0].Embedding[5] != want[1][5] {
		t.Errorf("string input: %d %s", status, body)
	}
	for _, c := range []struct {
		path string
		body any
		code string
	}{
		{"/v1/embeddings", map[string]any{"model": "stories260K", "input": "x"}, "invalid_parameter"},
		{"/v1/embeddings", map[string]any{"input": []string{}}, "invalid_parameter"},
		{"/v1/embeddings", map[string]any{"input": [][]int{{1, 2}}}, "invalid_parameter"},
		{"/v1/embeddings", map[string]any{"input": "x", "encoding_format": "base64"}, "invalid_parameter"},
		{"/v1/completions", map[string]any{"model": "bert", "prompt": "x"}, "invalid_parameter"},
		{"/v1/attention", map[string]any{"model": "bert", "text": "x"}, "invalid_parameter"},
	} {
		status, _, body := ts.post(t, c.path, c.body)
		wantError(t, c.path, status, body, 400, c.code)
	}
	if _, _, body := ts.post(t, "/v1/embeddings", map[string]any{"model": "stories260K", "input": "x"}); !strings.Contains(string(body), "model stories260K is not an embedding model") {
		t.Errorf("decoder on /v1/embeddings: %s", body)
	}
	status, _, body = ts.post(t, "/v1/embeddings", map[string]any{"model": "nope", "input": "x"})
	wantError(t, "unknown model", status, body, 404, "model_not_found")
	var models struct{ Data []struct{ ID, Family string } }
	ts.getJSON(t, "/v1/models", &models)
	if len(models.Data) != 2 || models.Data[1].ID != "bert" || models.Data[1].Family != "bert" {
		t.Errorf("models: %+v", models)
	}
	if n := metric(t, ts.reg, "headlight_prompt_tokens_total", map[string]string{"model": "bert"}); n != 8+5+10+5 {
		t.Errorf("prompt tokens of bert: %v", n)
	}
}
