// Package assets embeds the default model, so that `headlight generate` and
// `headlight serve` work on a fresh machine with no flags and no network.
//
// stories260K is Andrej Karpathy's tiny Llama trained on TinyStories
// (karpathy/tinyllamas, MIT licence): 5 layers, 8 query heads, 4 KV heads,
// dim 64, vocabulary 512. See stories260K/README.md for origin, format,
// checksums and the golden outputs the tests hold it to.
package assets

import _ "embed"

// Stories260K is the llama2.c checkpoint (legacy format, float32).
//
//go:embed stories260K/stories260K.bin
var Stories260K []byte

// Tok512 is its llama2.c tokenizer (SentencePiece BPE, 512 pieces).
//
//go:embed stories260K/tok512.bin
var Tok512 []byte
