package engine

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/model/bert"
	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"
)

const bertDir = "../../testdata/families/bert"

func loadBERT(t *testing.T) *bert.Model {
	t.Helper()
	hc, err := weights.LoadHFConfig(bertDir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := weights.OpenHFDir(bertDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	m, err := bert.FromHF(hc, src, attention.NewEngine(kernels.NewPool(2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// wordTok is a stand-in tokenizer for the 103-token fixture vocabulary:
// [PAD] 0, words 1…99 by hash, [CLS] 101, [SEP] 102.
type wordTok struct{ vocab int }

func (w wordTok) Encode(text string, bos, eos bool) []int {
	var ids []int
	if bos {
		ids = append(ids, 101)
	}
	for _, f := range strings.Fields(text) {
		h := fnv.New32a()
		h.Write([]byte(f))
		ids = append(ids, 1+int(h.Sum32()%99))
	}
	if eos {
		ids = append(ids, 102)
	}
	return ids
}

func (w wordTok) EncodeOffsets(text string, bos, eos bool) []tokenizer.Token {
	var out []tokenizer.Token
	for _, id := range w.Encode(text, bos, eos) {
		out = append(out, tokenizer.Token{ID: id})
	}
	return out
}
func (w wordTok) Piece(_, id int) string  { return fmt.Sprint(id) }
func (w wordTok) Decode(ids []int) string { return fmt.Sprint(ids) }
func (w wordTok) VocabSize() int          { return w.vocab }
func (w wordTok) BOS() int                { return 101 }
func (w wordTok) EOS() int                { return 102 }
func (w wordTok) TokenText(id int) string { return fmt.Sprint(id) }

// maxDiff is the largest |a[i] − b[i]|.
func maxDiff(a []float32, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var worst float64
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-b[i]))
	}
	return worst
}

// TestMeanPoolFixture: MeanPool over the encoder's output for the fixture's
// padded batch gives sentence-transformers' mean_pooled and
// mean_pooled_normalized (PyTorch) within 1e-4.
func TestMeanPoolFixture(t *testing.T) {
	m := loadBERT(t)
	raw, err := os.ReadFile(filepath.Join(bertDir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Inputs, Outputs map[string]struct {
			Shape []int     `json:"shape"`
			Data  []float64 `json:"data"`
		}
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	B, S, d := 2, 10, m.Config().Dim
	in := bert.EncodeInput{Batch: B, Seq: S, Lens: make([]int, B), Tokens: make([]int, B*S), TypeIDs: make([]int, B*S)}
	for i := range in.Tokens {
		in.Tokens[i] = int(ref.Inputs["input_ids"].Data[i])
		in.TypeIDs[i] = int(ref.Inputs["token_type_ids"].Data[i])
		if ref.Inputs["attention_mask"].Data[i] != 0 {
			in.Lens[i/S]++
		}
	}
	hidden, _, err := m.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		normalize bool
	}{{"mean_pooled", false}, {"mean_pooled_normalized", true}} {
		got := MeanPool(hidden, B, S, d, in.Lens, tc.normalize)
		want := ref.Outputs[tc.name].Data
		for b := range got {
			e := maxDiff(got[b], want[b*d:(b+1)*d])
			t.Logf("%s[%d]: max abs error %.3g", tc.name, b, e)
			if e > 1e-4 {
				t.Errorf("%s[%d]: max abs error %.3g > 1e-4", tc.name, b, e)
			}
		}
	}
}

// alone is the embedding of one token sequence computed without batching or
// padding: the encoder on exactly these ids, and a float64 mean.
func alone(t *testing.T, m *bert.Model, ids []int, normalize bool) []float64 {
	t.Helper()
	h, _, err := m.Encode(bert.EncodeInput{Tokens: ids, Batch: 1, Seq: len(ids)})
	if err != nil {
		t.Fatal(err)
	}
	d := m.Config().Dim
	mean := make([]float64, d)
	var ss float64
	for c := range mean {
		for i := range ids {
			mean[c] += float64(h[i*d+c])
		}
		mean[c] /= float64(len(ids))
		ss += mean[c] * mean[c]
	}
	if normalize {
		for c := range mean {
			mean[c] /= math.Sqrt(ss)
		}
	}
	return mean
}

// TestEmbed: 70 texts of 0 to 40 words (three batches, sorted by length,
// with padding, the longest truncated to the model's 32 positions) give, in
// input order, the embeddings of each text encoded alone.
func TestEmbed(t *testing.T) {
	m := loadBERT(t)
	tok := wordTok{vocab: 103}
	words := strings.Fields("the quick brown fox jumps over a lazy dog while seven wizards quietly hex jolly oxen")
	var texts []string
	for i := 0; i < 70; i++ {
		n := (i * 7) % 41
		var w []string
		for j := 0; j < n; j++ {
			w = append(w, words[(i+j*3)%len(words)])
		}
		texts = append(texts, strings.Join(w, " "))
	}
	for _, normalize := range []bool{false, true} {
		got, err := Embed(m, tok, texts, normalize)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(texts) {
			t.Fatalf("%d embeddings for %d texts", len(got), len(texts))
		}
		var worst float64
		for i, s := range texts {
			ids := tok.Encode(s, true, true)
			if len(ids) > 32 { // [CLS] + the first 30 words + [SEP]
				ids = append(ids[:31:31], 102)
			}
			worst = math.Max(worst, maxDiff(got[i], alone(t, m, ids, normalize)))
			if normalize {
				var ss float64
				for _, v := range got[i] {
					ss += float64(v) * float64(v)
				}
				if math.Abs(math.Sqrt(ss)-1) > 1e-5 {
					t.Errorf("text %d: normalised embedding has norm %v", i, math.Sqrt(ss))
				}
			}
		}
		t.Logf("normalize=%v: batched vs alone max abs difference %.3g", normalize, worst)
		if worst > 1e-5 {
			t.Errorf("normalize=%v: batched embeddings differ from single ones by %.3g", normalize, worst)
		}
	}
	if got, err := Embed(m, tok, nil, true); err != nil || len(got) != 0 {
		t.Errorf("no texts: %d embeddings, error %v", len(got), err)
	}
}

// TestEmbedMismatch: a tokenizer whose vocabulary the model lacks is an
// error before anything runs.
func TestEmbedMismatch(t *testing.T) {
	m := loadBERT(t)
	if _, err := Embed(m, wordTok{vocab: 30522}, []string{"hello"}, true); err == nil || !strings.Contains(err.Error(), "30522") {
		t.Errorf("tokenizer of 30522 tokens for a model of 103: error %v", err)
	}
}
