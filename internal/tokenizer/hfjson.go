package tokenizer

import (
	"encoding/json"
	"fmt"
)

// maxVocabID bounds token ids read from files (16.7 M, far above any real
// vocabulary), so that a hostile file cannot make us allocate for a huge id.
const maxVocabID = 1 << 24

// hfDoc is the part of a Hugging Face tokenizer.json that is read.
type hfDoc struct {
	AddedTokens   []hfAdded       `json:"added_tokens"`
	Normalizer    *hfComponent    `json:"normalizer"`
	PreTokenizer  *hfComponent    `json:"pre_tokenizer"`
	PostProcessor *hfComponent    `json:"post_processor"`
	Decoder       *hfComponent    `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

// hfAdded is an entry of "added_tokens".
type hfAdded struct {
	ID         *int    `json:"id"`
	Content    *string `json:"content"`
	SingleWord bool    `json:"single_word"`
	LStrip     bool    `json:"lstrip"`
	RStrip     bool    `json:"rstrip"`
	Special    bool    `json:"special"`
}

// hfComponent holds the fields of the normalizers, pre-tokenizers,
// post-processors and decoders that are understood, by "type".
type hfComponent struct {
	Type string `json:"type"`
	// BertNormalizer.
	CleanText          *bool `json:"clean_text"`
	HandleChineseChars *bool `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          *bool `json:"lowercase"`
	// ByteLevel pre-tokenizer.
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// Sequence.
	PreTokenizers []hfComponent `json:"pretokenizers"`
	Processors    []hfComponent `json:"processors"`
	// TemplateProcessing.
	Single []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	// BertProcessing, RobertaProcessing: [token, id].
	Sep []any `json:"sep"`
	Cls []any `json:"cls"`
	// WordPiece decoder.
	Cleanup *bool `json:"cleanup"`
}

// hfModel is the "model" object of the supported types.
type hfModel struct {
	Type                    string            `json:"type"`
	Vocab                   map[string]int    `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	MaxInputCharsPerWord    *int              `json:"max_input_chars_per_word"`
	Dropout                 *float64          `json:"dropout"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
}

// LoadHFTokenizerJSON builds the tokenizer a Hugging Face tokenizer.json
// describes. Supported: model "BPE" with a ByteLevel pre-tokenizer and no
// normalizer (GPT-2 style; returns *BPE) and model "WordPiece" with
// BertNormalizer (or none) and BertPreTokenizer (BERT style; returns
// *WordPiece). BOS/EOS come from the post-processor (TemplateProcessing's
// tokens around $A, or Bert/RobertaProcessing's cls and sep), else from
// well-known names ("<|endoftext|>", "<s>"/"</s>", "[CLS]"/"[SEP]").
// Truncation and padding settings are ignored. Anything else, and files with
// missing or mistyped fields, give an error wrapping ErrVocab.
func LoadHFTokenizerJSON(data []byte) (Tokenizer, error) {
	var doc hfDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %v", ErrVocab, err)
	}
	if len(doc.Model) == 0 || string(doc.Model) == "null" {
		return nil, fmt.Errorf("%w: tokenizer.json has no model", ErrVocab)
	}
	var m hfModel
	if err := json.Unmarshal(doc.Model, &m); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json model: %v", ErrVocab, err)
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("%w: tokenizer.json model has no vocab", ErrVocab)
	}
	added := make([]addedToken, 0, len(doc.AddedTokens))
	for i, a := range doc.AddedTokens {
		if a.ID == nil || a.Content == nil {
			return nil, fmt.Errorf("%w: added_tokens[%d] needs id and content", ErrVocab, i)
		}
		added = append(added, addedToken{id: *a.ID, content: *a.Content, lstrip: a.LStrip,
			rstrip: a.RStrip, single: a.SingleWord, special: a.Special})
	}
	if m.Type == "" && m.Merges != nil { // older files leave out the tag
		m.Type = "BPE"
	}
	switch m.Type {
	case "BPE":
		t, err := loadHFBPE(&doc, &m, added)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return t, nil
	case "WordPiece":
		t, err := loadHFWordPiece(&doc, &m, added)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: tokenizer.json model type %q is not supported (BPE, WordPiece)", ErrVocab, m.Type)
}

// vocabSize checks the ids of a vocabulary and its added tokens and returns
// one more than the largest. Ids must be in [0, maxVocabID) and not much
// sparser than the entries (a file with ids 0 and 10,000,000 is refused).
func vocabSize(vocab map[string]int, added []addedToken) (int, error) {
	n, count := 0, len(vocab)+len(added)
	check := func(what string, id int) error {
		if id < 0 || id >= maxVocabID {
			return fmt.Errorf("%w: %s has id %d outside [0, %d)", ErrVocab, what, id, maxVocabID)
		}
		n = max(n, id+1)
		return nil
	}
	for s, id := range vocab {
		if err := check(fmt.Sprintf("token %q", s), id); err != nil {
			return 0, err
		}
	}
	for _, a := range added {
		if err := check(fmt.Sprintf("added token %q", a.content), a.id); err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: empty vocabulary", ErrVocab)
	}
	if n > 2*count+1024 {
		return 0, fmt.Errorf("%w: %d entries but ids up to %d", ErrVocab, count, n-1)
	}
	return n, nil
}

// specialIDs returns the BOS and EOS ids the post-processor adds (-1 for a
// side it adds nothing to).
func specialIDs(pp *hfComponent) (bos, eos int, found bool, err error) {
	if pp == nil {
		return -1, -1, false, nil
	}
	switch pp.Type {
	case "Sequence":
		for i := range pp.Processors {
			if b, e, ok, err := specialIDs(&pp.Processors[i]); err != nil || ok {
				return b, e, ok, err
			}
		}
		return -1, -1, false, nil
	case "BertProcessing", "RobertaProcessing":
		b, okB := pairID(pp.Cls)
		e, okE := pairID(pp.Sep)
		if !okB || !okE {
			return 0, 0, false, fmt.Errorf("%w: %s needs cls and sep as [token, id]", ErrVocab, pp.Type)
		}
		return b, e, true, nil
	case "TemplateProcessing":
		return templateIDs(pp)
	}
	return -1, -1, false, nil
}

// pairID reads the id of a [token, id] pair.
func pairID(p []any) (int, bool) {
	if len(p) != 2 {
		return 0, false
	}
	f, ok := p[1].(float64)
	if !ok || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// templateIDs reads a TemplateProcessing "single" template: at most one
// special token before $A (BOS) and at most one after it (EOS).
func templateIDs(pp *hfComponent) (bos, eos int, found bool, err error) {
	bos, eos = -1, -1
	seenSeq := false
	for _, item := range pp.Single {
		switch {
		case item.Sequence != nil:
			seenSeq = true
		case item.SpecialToken != nil:
			st, ok := pp.SpecialTokens[item.SpecialToken.ID]
			if !ok || len(st.IDs) != 1 {
				return 0, 0, false, fmt.Errorf("%w: template token %q needs exactly one id in special_tokens", ErrVocab, item.SpecialToken.ID)
			}
			side := &bos
			if seenSeq {
				side = &eos
			}
			if *side >= 0 {
				return 0, 0, false, fmt.Errorf("%w: template adds more than one token on a side of the sequence", ErrVocab)
			}
			*side = st.IDs[0]
		default:
			return 0, 0, false, fmt.Errorf("%w: template item is neither SpecialToken nor Sequence", ErrVocab)
		}
	}
	if !seenSeq {
		return 0, 0, false, fmt.Errorf("%w: template has no sequence", ErrVocab)
	}
	return bos, eos, true, nil
}

// lookupAny returns the id of the first of names in vocab or added, or -1.
func lookupAny(vocab map[string]int, added []addedToken, names ...string) int {
	for _, n := range names {
		for _, a := range added {
			if a.content == n {
				return a.id
			}
		}
		if id, ok := vocab[n]; ok {
			return id
		}
	}
	return -1
}
