package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// loadHFBPE builds a byte-level BPE from a tokenizer.json.
func loadHFBPE(doc *hfDoc, m *hfModel, added []addedToken) (*BPE, error) {
	switch {
	case m.Dropout != nil && *m.Dropout > 0:
		return nil, fmt.Errorf("%w: BPE dropout is not supported", ErrVocab)
	case m.ByteFallback:
		return nil, fmt.Errorf("%w: BPE with byte_fallback (SentencePiece style) is not supported", ErrVocab)
	case m.IgnoreMerges:
		return nil, fmt.Errorf("%w: BPE with ignore_merges is not supported", ErrVocab)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "",
		m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, fmt.Errorf("%w: BPE with a subword prefix or suffix is not supported", ErrVocab)
	case doc.Normalizer != nil:
		return nil, fmt.Errorf("%w: normalizer %q with BPE is not supported", ErrVocab, doc.Normalizer.Type)
	}
	bl := doc.PreTokenizer
	if bl != nil && bl.Type == "Sequence" && len(bl.PreTokenizers) == 1 {
		bl = &bl.PreTokenizers[0]
	}
	if bl == nil || bl.Type != "ByteLevel" {
		what := "none"
		if doc.PreTokenizer != nil {
			what = doc.PreTokenizer.Type
		}
		return nil, fmt.Errorf("%w: BPE needs the ByteLevel pre-tokenizer, have %s", ErrVocab, what)
	}
	prefix := bl.AddPrefixSpace == nil || *bl.AddPrefixSpace // Hugging Face's defaults
	useRegex := bl.UseRegex == nil || *bl.UseRegex
	merges := make([][2]string, len(m.Merges))
	for i, raw := range m.Merges {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") {
				return nil, fmt.Errorf("%w: merge %d %q is not two tokens", ErrVocab, i+1, s)
			}
			merges[i] = [2]string{a, b}
			continue
		}
		var pair []string
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("%w: merge %d is neither \"a b\" nor [a, b]", ErrVocab, i+1)
		}
		merges[i] = [2]string{pair[0], pair[1]}
	}
	bos, eos, found, err := specialIDs(doc.PostProcessor)
	if err != nil {
		return nil, err
	}
	if !found {
		bos = lookupAny(m.Vocab, added, "<|endoftext|>", "<s>", "<|begin_of_text|>", "<bos>")
		eos = lookupAny(m.Vocab, added, "<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>")
	}
	return newBPE(m.Vocab, merges, added, bos, eos, prefix, useRegex)
}

// loadHFWordPiece builds a BERT WordPiece tokenizer from a tokenizer.json.
func loadHFWordPiece(doc *hfDoc, m *hfModel, added []addedToken) (*WordPiece, error) {
	n, err := vocabSize(m.Vocab, added)
	if err != nil {
		return nil, err
	}
	t := &WordPiece{
		tokens:   make([]string, n),
		vocab:    make(map[string]int, len(m.Vocab)),
		special:  make([]bool, n),
		prefix:   "##",
		maxChars: 100,
	}
	if m.ContinuingSubwordPrefix != nil {
		t.prefix = *m.ContinuingSubwordPrefix
	}
	if m.MaxInputCharsPerWord != nil {
		if t.maxChars = *m.MaxInputCharsPerWord; t.maxChars <= 0 {
			return nil, fmt.Errorf("%w: max_input_chars_per_word %d", ErrVocab, t.maxChars)
		}
	}
	for s, id := range m.Vocab {
		t.tokens[id] = s
		if prev, dup := t.vocab[s]; !dup || id < prev {
			t.vocab[s] = id
		}
	}
	for _, a := range added {
		t.tokens[a.id] = a.content
		t.special[a.id] = a.special
	}
	if t.added, err = newAddedSplitter(added); err != nil {
		return nil, err
	}
	unk := "[UNK]"
	if m.UnkToken != nil {
		unk = *m.UnkToken
	}
	if t.unk = lookupAny(m.Vocab, added, unk); t.unk < 0 {
		return nil, fmt.Errorf("%w: unk_token %q is not in the vocabulary", ErrVocab, unk)
	}
	if err := t.configure(doc); err != nil {
		return nil, err
	}
	bos, eos, found, err := specialIDs(doc.PostProcessor)
	if err != nil {
		return nil, err
	}
	if !found {
		bos, eos = lookupAny(m.Vocab, added, "[CLS]"), lookupAny(m.Vocab, added, "[SEP]")
	}
	if bos < 0 || bos >= n || eos < 0 || eos >= n {
		return nil, fmt.Errorf("%w: no [CLS]/[SEP] (post-processor gives %d, %d)", ErrVocab, bos, eos)
	}
	t.cls, t.sep = bos, eos
	return t, nil
}

// configure reads the normalizer, pre-tokenizer and decoder of a WordPiece
// tokenizer.json.
func (t *WordPiece) configure(doc *hfDoc) error {
	if nz := doc.Normalizer; nz != nil {
		if nz.Type != "BertNormalizer" {
			return fmt.Errorf("%w: normalizer %q with WordPiece is not supported (BertNormalizer)", ErrVocab, nz.Type)
		}
		orTrue := func(b *bool) bool { return b == nil || *b }
		t.norm = bertNorm{clean: orTrue(nz.CleanText), chinese: orTrue(nz.HandleChineseChars), lower: orTrue(nz.Lowercase)}
		t.norm.strip = t.norm.lower // strip_accents: null follows lowercase
		if nz.StripAccents != nil {
			t.norm.strip = *nz.StripAccents
		}
	}
	pt := doc.PreTokenizer
	if pt != nil && pt.Type == "Sequence" && len(pt.PreTokenizers) == 1 {
		pt = &pt.PreTokenizers[0]
	}
	if pt == nil || pt.Type != "BertPreTokenizer" {
		return fmt.Errorf("%w: WordPiece needs the BertPreTokenizer", ErrVocab)
	}
	if d := doc.Decoder; d != nil && d.Type == "WordPiece" {
		t.cleanup = d.Cleanup == nil || *d.Cleanup
	}
	return nil
}
