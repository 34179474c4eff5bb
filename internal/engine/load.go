package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/headlight/headlight/assets"
	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/progress"
	"github.com/headlight/headlight/internal/tokenizer"
	"github.com/headlight/headlight/internal/weights"

	_ "github.com/headlight/headlight/internal/model/gpt2"  // registers "gpt2"
	_ "github.com/headlight/headlight/internal/model/llama" // registers "llama"
)

// DefaultModel is the name of the embedded model.
const DefaultModel = "stories260K"

// Loaded is a model ready to run with its tokenizer.
type Loaded struct {
	Name      string
	Model     model.Decoder
	Tokenizer tokenizer.Tokenizer
	closer    io.Closer
}

// Piece is the text of token id after prev, exactly as llama2.c's run.c
// prints it (unprintable single bytes are dropped) when the tokenizer is a
// llama2.c SentencePiece; else the plain piece.
func (l *Loaded) Piece(prev, id int) string {
	if sp, ok := l.Tokenizer.(*tokenizer.SentencePiece); ok {
		return sp.SafePiece(prev, id)
	}
	return l.Tokenizer.Piece(prev, id)
}

// Close releases the model file's mapping.
func (l *Loaded) Close() error {
	if l.closer != nil {
		return l.closer.Close()
	}
	return nil
}

// Load opens a model. An empty path loads the embedded default. A llama2.c
// checkpoint (.bin) takes its tokenizer from tokPath, or else from
// tokenizer.bin beside it; a GGUF file carries its own.
func Load(path, tokPath string, eng *attention.Engine) (*Loaded, error) {
	return LoadWithOptions(path, tokPath, eng, LoadOptions{})
}

// LoadWithProgress is Load drawing a progress bar on w (e.g. stderr) when
// reading the tensors takes over a second.
func LoadWithProgress(path, tokPath string, eng *attention.Engine, bar io.Writer) (*Loaded, error) {
	return LoadWithOptions(path, tokPath, eng, LoadOptions{Progress: bar})
}

// loadFile opens the model as the file holds it (see Load).
func loadFile(path, tokPath string, eng *attention.Engine, bar io.Writer) (*Loaded, error) {
	if path == "" || path == DefaultModel {
		w, err := weights.ParseLlama2C(assets.Stories260K)
		if err != nil {
			return nil, fmt.Errorf("embedded model: %w", err)
		}
		tok, err := tokenizer.LoadLlama2C(assets.Tok512, w.Config.VocabSize)
		if err != nil {
			return nil, fmt.Errorf("embedded tokenizer: %w", err)
		}
		m, err := model.New("llama", w, eng)
		if err != nil {
			return nil, err
		}
		return &Loaded{Name: DefaultModel, Model: m, Tokenizer: tok}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if fi.IsDir() {
		return loadHF(path, eng, bar)
	}
	if isGGUF(path) {
		return loadGGUF(path, eng, bar)
	}
	w, closer, err := weights.OpenLlama2C(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Loaded, error) { closer.Close(); return nil, err }
	if tokPath == "" {
		tokPath = filepath.Join(filepath.Dir(path), "tokenizer.bin")
	}
	tb, err := os.ReadFile(tokPath)
	if errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("model %s: no tokenizer: %s does not exist (give --tokenizer PATH)", path, tokPath))
	}
	if err != nil {
		return fail(err)
	}
	tok, err := tokenizer.LoadLlama2C(tb, w.Config.VocabSize)
	if err != nil {
		return fail(fmt.Errorf("tokenizer %s: %w", tokPath, err))
	}
	m, err := model.New("llama", w, eng)
	if err != nil {
		return fail(err)
	}
	return &Loaded{Name: filepath.Base(path), Model: m, Tokenizer: tok, closer: closer}, nil
}

// isGGUF reports whether the file starts with GGUF's magic.
func isGGUF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var m [4]byte
	_, err = io.ReadFull(f, m[:])
	return err == nil && string(m[:]) == "GGUF"
}

// loadGGUF opens a GGUF model with the tokenizer it carries.
func loadGGUF(path string, eng *attention.Engine, w io.Writer) (*Loaded, error) {
	g, err := weights.OpenGGUF(path)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Loaded, error) { g.Close(); return nil, fmt.Errorf("model %s: %w", path, err) }
	gt, err := g.Tokenizer()
	if err != nil {
		return fail(err)
	}
	var tok tokenizer.Tokenizer
	switch gt.Model {
	case "llama":
		tok, err = tokenizer.NewSentencePiece(gt.Tokens, gt.Scores, gt.BOS, gt.EOS)
	case "gpt2":
		merges, _ := g.GetStrings("tokenizer.ggml.merges")
		tok, err = bpeFromGGUF(gt.Tokens, merges)
	default:
		err = fmt.Errorf("tokenizer model %q is not supported (llama SentencePiece or gpt2 BPE)", gt.Model)
	}
	if err != nil {
		return fail(err)
	}
	src := withProgress(g, w, "loading "+filepath.Base(path))
	m, err := model.New(g.Architecture(), &model.GGUF{File: g, Tensors: src}, eng)
	src.bar.Finish()
	if err != nil {
		return fail(err)
	}
	if m.Config().VocabSize != tok.VocabSize() {
		return fail(fmt.Errorf("tokenizer has %d tokens, model %d", tok.VocabSize(), m.Config().VocabSize))
	}
	name, ok := g.GetString("general.name")
	if !ok {
		name = filepath.Base(path)
	}
	return &Loaded{Name: name, Model: m, Tokenizer: tok, closer: g}, nil
}

// progressSource counts the bytes of float32 tensors handed out.
type progressSource struct {
	weights.Source
	bar *progress.Bar
}

func withProgress(src weights.Source, w io.Writer, label string) *progressSource {
	var total int64
	for _, n := range src.Names() {
		shape, _, _ := src.Info(n)
		total += 4 * int64(elements(shape))
	}
	return &progressSource{Source: src, bar: progress.New(w, label, total)}
}

func (p *progressSource) F32(name string, want ...int) ([]float32, error) {
	x, err := p.Source.F32(name, want...)
	p.bar.Add(4 * int64(len(x)))
	return x, err
}

func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// loadHF opens a Hugging Face directory: config.json, model.safetensors (or
// its shards) and tokenizer.json (or GPT-2's vocab.json + merges.txt).
func loadHF(dir string, eng *attention.Engine, bar io.Writer) (*Loaded, error) {
	hc, err := weights.LoadHFConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	switch hc.ModelType {
	case "bert", "bart":
		return nil, fmt.Errorf("model %s: %q is not a decoder-only language model (use it with headlight embed)", dir, hc.ModelType)
	}
	m, tok, st, err := openHF(dir, bar, func(src weights.Source) (model.Decoder, model.Config, error) {
		m, err := model.New(hc.ModelType, &model.HF{Config: hc, Tensors: src}, eng)
		if err != nil {
			return nil, model.Config{}, err
		}
		return m, m.Config(), nil
	})
	if err != nil {
		return nil, err
	}
	return &Loaded{Name: filepath.Base(dir), Model: m, Tokenizer: tok, closer: st}, nil
}

// openHF reads a Hugging Face directory's tokenizer and tensors, builds the
// model from the tensors with build (with a progress bar on bar), and checks
// that the tokenizer fits the model's vocabulary. Closing st releases the
// tensors.
func openHF[M any](dir string, bar io.Writer, build func(weights.Source) (M, model.Config, error)) (m M, tok tokenizer.Tokenizer, st *weights.Safetensors, err error) {
	if tok, err = LoadHFTokenizer(dir); err != nil {
		return m, nil, nil, err
	}
	if st, err = weights.OpenHFDir(dir); err != nil {
		return m, nil, nil, fmt.Errorf("model %s: %w", dir, err)
	}
	src := withProgress(st, bar, "loading "+filepath.Base(dir))
	m, cfg, err := build(src)
	src.bar.Finish()
	if err == nil && tok.VocabSize() > cfg.VocabSize {
		err = fmt.Errorf("tokenizer has %d tokens but the model only %d: they do not belong together", tok.VocabSize(), cfg.VocabSize)
	}
	if err != nil {
		st.Close()
		return m, nil, nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return m, tok, st, nil
}

// LoadHFTokenizer reads dir/tokenizer.json, or else GPT-2's vocab.json and
// merges.txt.
func LoadHFTokenizer(dir string) (tokenizer.Tokenizer, error) {
	b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err == nil {
		t, err := tokenizer.LoadHFTokenizerJSON(b)
		if err != nil {
			return nil, fmt.Errorf("%s/tokenizer.json: %w", dir, err)
		}
		return t, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	enc, err1 := os.ReadFile(filepath.Join(dir, "vocab.json"))
	merges, err2 := os.ReadFile(filepath.Join(dir, "merges.txt"))
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("model %s: no tokenizer.json (nor vocab.json + merges.txt)", dir)
	}
	t, err := tokenizer.LoadGPT2(enc, merges)
	if err != nil {
		return nil, fmt.Errorf("%s/vocab.json: %w", dir, err)
	}
	return t, nil
}

// bpeFromGGUF builds a GPT-2 byte-level BPE from GGUF's token list (id
// order) and merges ("left right", highest priority first), through the
// same loader as encoder.json + vocab.bpe.
func bpeFromGGUF(tokens, merges []string) (*tokenizer.BPE, error) {
	if len(merges) == 0 {
		return nil, fmt.Errorf("gpt2 tokenizer without tokenizer.ggml.merges")
	}
	vocab := make(map[string]int, len(tokens))
	for id, t := range tokens {
		if _, dup := vocab[t]; !dup {
			vocab[t] = id
		}
	}
	enc, err := json.Marshal(vocab)
	if err != nil {
		return nil, err
	}
	bpe := "#version: 0.2\n" + strings.Join(merges, "\n") + "\n"
	return tokenizer.LoadGPT2(enc, []byte(bpe))
}

// TokenizerFingerprint identifies a tokenizer's vocabulary: the first 12 hex
// digits of SHA-256 over its size and every token's text, for the
// tokenizer-version label of the server's metrics (two models whose
// fingerprints differ tokenize differently).
func TokenizerFingerprint(t tokenizer.Tokenizer) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", t.VocabSize())
	for id := range t.VocabSize() {
		io.WriteString(h, t.TokenText(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
