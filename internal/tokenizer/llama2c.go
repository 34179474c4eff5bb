package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrFormat reports a malformed llama2.c tokenizer file.
var ErrFormat = errors.New("tokenizer: malformed llama2.c tokenizer")

// llama2.c's fixed special ids.
const (
	llama2cBOS = 1
	llama2cEOS = 2
)

// LoadLlama2C parses a llama2.c tokenizer.bin: int32 max_token_length, then
// for each of vocabSize tokens float32 score, int32 length and length bytes,
// all little-endian. The file does not hold vocabSize; it comes from the
// model. BOS is 1 and EOS is 2, as in run.c.
//
// Bad input gives an error wrapping ErrFormat, never a panic: vocabSize out
// of range (fewer than 3 tokens, or more than the data could hold), a
// negative max_token_length, a negative piece length, a piece running past
// the end, or bytes left over after the last piece (usually a wrong
// vocabSize). Nothing larger than the data is allocated.
func LoadLlama2C(data []byte, vocabSize int) (*SentencePiece, error) {
	if vocabSize <= llama2cEOS {
		return nil, fmt.Errorf("%w: vocabulary size %d (need at least %d for <unk>, BOS, EOS)",
			ErrFormat, vocabSize, llama2cEOS+1)
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: %d bytes, too short for the header", ErrFormat, len(data))
	}
	// Each token takes at least 8 bytes (score and length), which bounds
	// vocabSize before anything is allocated.
	if vocabSize > (len(data)-4)/8 {
		return nil, fmt.Errorf("%w: %d bytes cannot hold %d tokens (8 bytes each at least)",
			ErrFormat, len(data), vocabSize)
	}
	if maxLen := int32(binary.LittleEndian.Uint32(data)); maxLen < 0 {
		return nil, fmt.Errorf("%w: negative max_token_length %d", ErrFormat, maxLen)
	}
	pieces := make([]string, vocabSize)
	scores := make([]float32, vocabSize)
	off := 4
	for i := range vocabSize {
		if len(data)-off < 8 {
			return nil, fmt.Errorf("%w: token %d: truncated at byte %d (score and length need 8 bytes, %d left)",
				ErrFormat, i, off, len(data)-off)
		}
		scores[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := int64(int32(binary.LittleEndian.Uint32(data[off+4:])))
		off += 8
		if n < 0 {
			return nil, fmt.Errorf("%w: token %d: negative length %d", ErrFormat, i, n)
		}
		if n > int64(len(data)-off) {
			return nil, fmt.Errorf("%w: token %d: length %d at byte %d runs past the end (%d bytes left)",
				ErrFormat, i, n, off-4, len(data)-off)
		}
		pieces[i] = string(data[off : off+int(n)])
		off += int(n)
	}
	if off != len(data) {
		return nil, fmt.Errorf("%w: %d bytes left after %d tokens (wrong vocabulary size?)",
			ErrFormat, len(data)-off, vocabSize)
	}
	return build(pieces, scores, llama2cBOS, llama2cEOS), nil
}
