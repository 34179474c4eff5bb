package tokenizer

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"testing"
)

// The embedded default model's tokenizer and golden outputs (see
// assets/stories260K/README.md).
const (
	tok512Path    = "../../assets/stories260K/tok512.bin"
	greedyPath    = "../../assets/stories260K/greedy-200.txt"
	referencePath = "../../assets/stories260K/reference.json"
)

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// loadTok512 loads the real 512-piece llama2.c tokenizer.
func loadTok512(tb testing.TB) *SentencePiece {
	tb.Helper()
	tok, err := LoadLlama2C(readFile(tb, tok512Path), 512)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestLoadLlama2CReal(t *testing.T) {
	tok := loadTok512(t)
	if tok.VocabSize() != 512 || tok.BOS() != 1 || tok.EOS() != 2 {
		t.Fatalf("vocab %d BOS %d EOS %d, want 512 1 2", tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	// Values read off the file with an independent reader (Python struct).
	for id, want := range map[int]string{0: "<unk>", 1: "\n<s>\n", 2: "\n</s>\n", 3: "<0x00>",
		258: "<0xFF>", 259: " t", 260: "he", 265: " the", 511: "\xe2\x80\x8a"} {
		if got := tok.TokenText(id); got != want {
			t.Errorf("TokenText(%d) = %q, want %q", id, got, want)
		}
	}
	for id, want := range map[int]float32{3: 0, 260: -1, 265: -6, 511: -252} {
		if got := tok.Score(id); got != want {
			t.Errorf("Score(%d) = %v, want %v", id, got, want)
		}
	}
	// run.c hardcodes byte fallback as byte+3; the piece lookup must agree.
	for b := range 256 {
		if tok.byteID[b] != b+3 {
			t.Fatalf("byte %#x → id %d, want %d", b, tok.byteID[b], b+3)
		}
	}
	if tok.space < 0 || tok.TokenText(tok.space) != " " {
		t.Fatalf("no dummy-prefix piece: id %d", tok.space)
	}
	// run.c merges with BOS already in place; it makes no difference only
	// if no piece extends the BOS piece.
	bosPiece := tok.TokenText(tok.BOS())
	for id := range tok.VocabSize() {
		if p := tok.TokenText(id); id != tok.BOS() && len(p) >= len(bosPiece) && p[:len(bosPiece)] == bosPiece {
			t.Errorf("piece %d %q extends the BOS piece", id, p)
		}
	}
	if got := tok.TokenText(-1) + tok.TokenText(512); got != "" {
		t.Errorf("TokenText out of range = %q", got)
	}
}

// llama2cFile writes a tokenizer file in llama2.c's format.
func llama2cFile(maxLen int32, pieces []string, scores []float32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(maxLen))
	for i, p := range pieces {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(scores[i]))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// llama2cPrefix returns the length of the first n tokens of a well-formed
// llama2.c tokenizer file (with its header).
func llama2cPrefix(file []byte, n int) int {
	off := 4
	for range n {
		off += 8 + int(binary.LittleEndian.Uint32(file[off+4:]))
	}
	return off
}

func TestLoadLlama2CSynthetic(t *testing.T) {
	pieces := []string{"<unk>", "<s>", "</s>", " ", "", "héllo"}
	scores := []float32{0, 0, 0, -1, -2, -3}
	tok, err := LoadLlama2C(llama2cFile(5, pieces, scores), len(pieces))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pieces {
		if tok.TokenText(i) != p || tok.Score(i) != scores[i] {
			t.Errorf("token %d = %q %v, want %q %v", i, tok.TokenText(i), tok.Score(i), p, scores[i])
		}
	}
}

func TestLoadLlama2CMalformed(t *testing.T) {
	file := readFile(t, tok512Path)
	// Every proper prefix of the real file is truncated.
	for n := range len(file) {
		if _, err := LoadLlama2C(file[:n], 512); !errors.Is(err, ErrFormat) {
			t.Fatalf("prefix of %d bytes: err %v, want ErrFormat", n, err)
		}
	}
	// So is every prefix of a small well-formed file.
	small := llama2cFile(3, []string{"a", "bc", "def", "g"}, []float32{0, 1, 2, 3})
	for n := range len(small) {
		if _, err := LoadLlama2C(small[:n], 4); !errors.Is(err, ErrFormat) {
			t.Fatalf("small prefix of %d bytes: err %v, want ErrFormat", n, err)
		}
	}
	if _, err := LoadLlama2C(small, 4); err != nil {
		t.Fatalf("small file: %v", err)
	}
	// A whole-token prefix of the real file is a valid smaller vocabulary.
	if tok, err := LoadLlama2C(file[:llama2cPrefix(file, 300)], 300); err != nil || tok.TokenText(299) != "ing" {
		t.Fatalf("300-token prefix: %v", err)
	}
	patch := func(off int, v int32) []byte {
		b := append([]byte(nil), file...)
		binary.LittleEndian.PutUint32(b[off:], uint32(v))
		return b
	}
	firstLen := 4 + 4 // max_token_length, then token 0's score
	cases := []struct {
		name  string
		data  []byte
		vocab int
	}{
		{"vocab 0", file, 0},
		{"vocab -1", file, -1},
		{"vocab 2", file, 2},
		{"vocab 1e9", file, 1e9},
		{"vocab max int", file, math.MaxInt},
		{"vocab too large", file, 513},
		{"vocab too small (trailing bytes)", file, 511},
		{"trailing byte", append(append([]byte(nil), file...), 0), 512},
		{"empty", nil, 512},
		{"negative max_token_length", patch(0, -7), 512},
		{"negative length", patch(firstLen, -1), 512},
		{"min int length", patch(firstLen, math.MinInt32), 512},
		{"length past end", patch(firstLen, int32(len(file))), 512},
		{"max int length", patch(firstLen, math.MaxInt32), 512},
	}
	for _, c := range cases {
		if tok, err := LoadLlama2C(c.data, c.vocab); !errors.Is(err, ErrFormat) || tok != nil {
			t.Errorf("%s: got %v, %v; want nil, ErrFormat", c.name, tok, err)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func TestNewSentencePieceErrors(t *testing.T) {
	p := []string{"<unk>", "<s>", "</s>"}
	s := []float32{0, 0, 0}
	for name, err := range map[string]error{
		"empty":        second(NewSentencePiece(nil, nil, 0, 0)),
		"scores":       second(NewSentencePiece(p, s[:2], 1, 2)),
		"bos range":    second(NewSentencePiece(p, s, 3, 2)),
		"eos range":    second(NewSentencePiece(p, s, 1, -1)),
		"bos negative": second(NewSentencePiece(p, s, -1, 2)),
	} {
		if !errors.Is(err, ErrVocab) {
			t.Errorf("%s: err %v, want ErrVocab", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func FuzzLoadLlama2C(f *testing.F) {
	// A short prefix of the real file rather than all of it: the fuzzer
	// minimizes each interesting input, which stalls it for long stretches
	// on kilobyte-sized ones.
	file := readFile(f, tok512Path)
	f.Add(file[:llama2cPrefix(file, 8)], 8)
	f.Add(llama2cFile(3, []string{"<unk>", "<s>", "</s>", " ", "a", " a"}, []float32{0, 0, 0, 0, 0, -1}), 6)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 1)
	f.Fuzz(func(t *testing.T, data []byte, vocabSize int) {
		tok, err := LoadLlama2C(data, vocabSize)
		if err != nil {
			if tok != nil || !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, %v", tok, err)
			}
			return
		}
		if tok.VocabSize() != vocabSize {
			t.Fatalf("VocabSize %d, want %d", tok.VocabSize(), vocabSize)
		}
		// Whatever the pieces, encoding yields in-range ids and spans.
		const text = "Once upon a \xff time, héllo ✓"
		for _, tk := range tok.EncodeOffsets(text, true, true) {
			if tk.ID < 0 || tk.ID >= vocabSize || tk.Start < 0 || tk.Start > tk.End || tk.End > len(text) {
				t.Fatalf("bad token %+v", tk)
			}
		}
		_ = tok.Decode([]int{1, 2, 3, vocabSize - 1, vocabSize, -1})
	})
}
