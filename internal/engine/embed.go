package engine

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/model/bert"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"
)

// embedBatch is the number of texts encoded together. Texts are sorted by
// length first, so a batch holds texts of similar lengths and little padding.
const embedBatch = 32

// Embed returns one sentence embedding per text, as sentence-transformers
// does for all-MiniLM-style models: each text is tokenized with [CLS] and
// [SEP] (the tokenizer's BOS and EOS), cut to the model's positions keeping
// the final [SEP], encoded in right-padded batches, mean-pooled over its
// real tokens and, with normalize, divided by its L2 norm.
func Embed(m *bert.Model, tok tokenizer.Tokenizer, texts []string, normalize bool) ([][]float32, error) {
	cfg := m.Config()
	if tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("engine: the tokenizer has %d tokens, the model %d", tok.VocabSize(), cfg.VocabSize)
	}
	ids := make([][]int, len(texts)) // (text) token ids
	for i, s := range texts {
		ids[i] = truncate(tok.Encode(s, true, true), cfg.MaxSeq)
		if len(ids[i]) == 0 {
			return nil, fmt.Errorf("engine: text %d encodes to no tokens", i)
		}
	}
	order := make([]int, len(texts)) // text indices by length
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	out := make([][]float32, len(texts))
	for start := 0; start < len(order); start += embedBatch {
		chunk := order[start:min(start+embedBatch, len(order))]
		B, S := len(chunk), len(ids[chunk[len(chunk)-1]])
		tokens := make([]int, B*S) // (batch, seq) right-padded
		lens := make([]int, B)     // (batch)
		for b, i := range chunk {
			row := tokens[b*S : (b+1)*S]
			n := copy(row, ids[i])
			for j := n; j < S; j++ {
				row[j] = m.PadID
			}
			lens[b] = n
		}
		hidden, _, err := m.Encode(bert.EncodeInput{Tokens: tokens, Batch: B, Seq: S, Lens: lens})
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		for b, v := range MeanPool(hidden, B, S, cfg.Dim, lens, normalize) {
			out[chunk[b]] = v
		}
	}
	return out, nil
}

// truncate keeps at most limit tokens: the first limit-1 and the last one (the
// [SEP]), as Hugging Face truncation before adding special tokens does.
func truncate(ids []int, limit int) []int {
	if len(ids) <= limit {
		return ids
	}
	return append(ids[:limit-1:limit-1], ids[len(ids)-1])
}

// MeanPool averages hidden (batch, seq, dim) over the first lens[b] rows of
// each sequence (sentence-transformers mean pooling) and, with normalize,
// divides each mean by max(‖mean‖₂, 1e-12) (torch.nn.functional.normalize).
// It returns (batch) vectors of dim, summed in float64.
func MeanPool(hidden []float32, batch, seq, dim int, lens []int, normalize bool) [][]float32 {
	if len(hidden) != batch*seq*dim || len(lens) != batch {
		panic(fmt.Sprintf("engine.MeanPool: %d values, %d lengths for %d × %d × %d", len(hidden), len(lens), batch, seq, dim))
	}
	out := make([][]float32, batch)
	sum := make([]float64, dim)
	for b := range out {
		clear(sum)
		n := lens[b]
		for i := 0; i < n; i++ {
			for c, v := range hidden[(b*seq+i)*dim : (b*seq+i+1)*dim] {
				sum[c] += float64(v)
			}
		}
		var ss float64
		for c := range sum {
			sum[c] /= math.Max(float64(n), 1e-9)
			ss += sum[c] * sum[c]
		}
		scale := 1.0
		if normalize {
			scale = 1 / math.Max(math.Sqrt(ss), 1e-12)
		}
		v := make([]float32, dim)
		for c, s := range sum {
			v[c] = float32(s * scale)
		}
		out[b] = v
	}
	return out
}

// Embedder is an encoder model with its tokenizer.
type Embedder struct {
	Name      string
	Model     *bert.Model
	Tokenizer tokenizer.Tokenizer
	closer    interface{ Close() error }
}

// Close releases the model's files.
func (e *Embedder) Close() error { return e.closer.Close() }

// LoadEmbedder opens a Hugging Face BERT-style directory (config.json,
// model.safetensors, tokenizer.json) for sentence embeddings.
func LoadEmbedder(dir string, eng *attention.Engine, bar io.Writer) (*Embedder, error) {
	hc, err := weights.LoadHFConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	if hc.ModelType != "bert" {
		return nil, fmt.Errorf("model %s: model_type %q is not an encoder for embeddings (bert)", dir, hc.ModelType)
	}
	m, tok, st, err := openHF(dir, bar, func(src weights.Source) (*bert.Model, model.Config, error) {
		m, err := bert.FromHF(hc, src, eng)
		if err != nil {
			return nil, model.Config{}, err
		}
		return m, m.Config(), nil
	})
	if err != nil {
		return nil, err
	}
	// Packed weights, as LoadWithOptions keeps a decoder's; the file's
	// pages are dropped after each layer (advice only).
	if err := m.StoreWeights(tensor.F32, func() { _ = weights.DropPages(st) }); err != nil {
		st.Close()
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return &Embedder{Name: filepath.Base(dir), Model: m, Tokenizer: tok, closer: st}, nil
}
