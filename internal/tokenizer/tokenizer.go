// Package tokenizer turns text into token ids and back.
//
// Three implementations:
//   - SentencePiece: SentencePiece-BPE with byte fallback in llama2.c's format
//     (tokenizer.bin) or from GGUF metadata, used by the embedded default
//     model. Its encoding is exactly llama2.c's encode() in run.c and its
//     decoding exactly decode() and safe_printf(), so that `headlight
//     generate` prints byte for byte what run.c prints.
//   - BPE: GPT-2's byte-level BPE (encoder.json + vocab.bpe, or a Hugging
//     Face tokenizer.json), checked against the npm gpt-3-encoder package.
//   - WordPiece: BERT's (tokenizer.json), checked against Hugging Face's
//     JavaScript tokenizers and a Go port.
package tokenizer

// Token is one token of an encoded text with its byte span in the input (for
// labelling attention maps). [Start, End) are byte offsets into the original
// text; the dummy-prefix space and BOS/EOS have Start == End (an empty span).
type Token struct {
	ID         int
	Start, End int
}

// Tokenizer is what model code and the server use.
type Tokenizer interface {
	// Encode returns the token ids of text, with BOS in front and EOS at
	// the end if asked.
	Encode(text string, bos, eos bool) []int
	// EncodeOffsets is Encode with the byte span of each token in text.
	EncodeOffsets(text string, bos, eos bool) []Token
	// Piece returns the text a token stands for when it follows prev, as
	// llama2.c's decode(): after BOS a leading space is stripped; "<0xNN>"
	// pieces become the single byte NN.
	Piece(prev, id int) string
	// Decode joins Piece over ids (ids[0] follows BOS if ids start with
	// BOS; BOS/EOS themselves decode to "").
	Decode(ids []int) string
	// VocabSize is the number of tokens.
	VocabSize() int
	// BOS is the id of the beginning-of-sequence token.
	BOS() int
	// EOS is the id of the end-of-sequence token.
	EOS() int
	// TokenText is the raw vocabulary string of id (for display).
	TokenText(id int) string
}
