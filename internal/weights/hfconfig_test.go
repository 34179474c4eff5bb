package weights

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Shortened real configurations (values as in the Hugging Face Hub files).
const (
	llamaConfig = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":2048,
		"intermediate_size":5632,"num_hidden_layers":22,"num_attention_heads":32,"num_key_value_heads":4,
		"vocab_size":32000,"max_position_embeddings":2048,"rms_norm_eps":1e-05,"rope_theta":10000.0,
		"tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2,"torch_dtype":"bfloat16"}`
	gpt2Config = `{"architectures":["GPT2LMHeadModel"],"model_type":"gpt2","n_embd":768,"n_layer":12,
		"n_head":12,"n_positions":1024,"n_inner":null,"layer_norm_epsilon":1e-05,"vocab_size":50257,
		"bos_token_id":50256,"eos_token_id":50256}`
	t5Config = `{"architectures":["T5ForConditionalGeneration"],"model_type":"t5","d_model":512,"d_ff":2048,
		"d_kv":64,"num_layers":6,"num_decoder_layers":6,"num_heads":8,"relative_attention_num_buckets":32,
		"relative_attention_max_distance":128,"feed_forward_proj":"relu","is_encoder_decoder":true,
		"layer_norm_epsilon":1e-06,"vocab_size":32128,"pad_token_id":0,"eos_token_id":1,
		"decoder_start_token_id":0,"tie_word_embeddings":true}`
	bertConfig = `{"architectures":["BertModel"],"model_type":"bert","hidden_size":384,"intermediate_size":1536,
		"num_hidden_layers":6,"num_attention_heads":12,"max_position_embeddings":512,"type_vocab_size":2,
		"layer_norm_eps":1e-12,"vocab_size":30522,"pad_token_id":0}`
	llama3Config = `{"model_type":"llama","hidden_size":64,"eos_token_id":[128001,128008,128009],"bos_token_id":128000}`
)

func TestParseHFConfig(t *testing.T) {
	l, err := ParseHFConfig([]byte(llamaConfig))
	if err != nil {
		t.Fatal(err)
	}
	if l.ModelType != "llama" || !slices.Equal(l.Architectures, []string{"LlamaForCausalLM"}) ||
		l.HiddenSize != 2048 || l.IntermediateSize != 5632 || l.NumHiddenLayers != 22 ||
		l.NumAttentionHeads != 32 || l.NumKeyValueHeads != 4 || l.VocabSize != 32000 ||
		l.MaxPositionEmbeddings != 2048 || l.RMSNormEps != 1e-5 || l.RopeTheta != 10000 ||
		l.TieWordEmbeddings || l.BOSTokenID != 1 || l.EOSTokenID != 2 || l.PadTokenID != -1 {
		t.Errorf("llama: %+v", *l)
	}
	if s, ok := l.Str("torch_dtype"); !ok || s != "bfloat16" {
		t.Errorf("Str(torch_dtype) = %q, %v", s, ok)
	}

	g, err := ParseHFConfig([]byte(gpt2Config))
	if err != nil {
		t.Fatal(err)
	}
	if g.NEmbd != 768 || g.NLayer != 12 || g.NHead != 12 || g.NPositions != 1024 || g.NInner != 0 ||
		g.LayerNormEpsilon != 1e-5 || g.BOSTokenID != 50256 || g.HiddenSize != 0 {
		t.Errorf("gpt2: %+v", *g)
	}
	if d, ok := g.Int("hidden_size", "n_embd", "d_model"); !ok || d != 768 {
		t.Errorf("Int fallback = %d, %v; want 768", d, ok)
	}
	if _, ok := g.Int("n_inner"); ok {
		t.Error("Int of a null value is present")
	}
	if eps, ok := g.Float("layer_norm_eps", "layer_norm_epsilon"); !ok || eps != 1e-5 {
		t.Errorf("Float fallback = %v, %v", eps, ok)
	}

	t5, err := ParseHFConfig([]byte(t5Config))
	if err != nil {
		t.Fatal(err)
	}
	if t5.DModel != 512 || t5.DFF != 2048 || t5.DKV != 64 || t5.NumLayers != 6 || t5.NumDecoderLayers != 6 ||
		t5.NumHeads != 8 || t5.RelativeAttentionNumBuckets != 32 || t5.RelativeAttentionMaxDistance != 128 ||
		t5.FeedForwardProj != "relu" || !t5.IsEncoderDecoder || t5.PadTokenID != 0 || t5.EOSTokenID != 1 ||
		t5.DecoderStartToken != 0 || t5.BOSTokenID != -1 || !t5.TieWordEmbeddings || t5.LayerNormEpsilon != 1e-6 {
		t.Errorf("t5: %+v", *t5)
	}
	if b, ok := t5.Bool("is_encoder_decoder"); !ok || !b {
		t.Errorf("Bool = %v, %v", b, ok)
	}

	b, err := ParseHFConfig([]byte(bertConfig))
	if err != nil {
		t.Fatal(err)
	}
	if b.TypeVocabSize != 2 || b.LayerNormEps != 1e-12 || b.HiddenSize != 384 {
		t.Errorf("bert: %+v", *b)
	}

	l3, err := ParseHFConfig([]byte(llama3Config))
	if err != nil {
		t.Fatal(err)
	}
	if l3.EOSTokenID != 128001 {
		t.Errorf("eos list: EOSTokenID = %d, want the first, 128001", l3.EOSTokenID)
	}
	if ids, ok := l3.Ints("eos_token_id"); !ok || !slices.Equal(ids, []int{128001, 128008, 128009}) {
		t.Errorf("Ints = %v, %v", ids, ok)
	}
	if ids, ok := l3.Ints("bos_token_id"); !ok || !slices.Equal(ids, []int{128000}) {
		t.Errorf("Ints of a single id = %v, %v", ids, ok)
	}
}

func TestParseHFConfigHostile(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":                 ``,
		"not json":              `hidden_size: 3`,
		"array":                 `[1,2]`,
		"null":                  `null`,
		"two objects":           `{} {}`,
		"string int":            `{"hidden_size":"768"}`,
		"fractional int":        `{"num_hidden_layers":2.5}`,
		"huge int":              `{"vocab_size":1e300}`,
		"bool int":              `{"n_head":true}`,
		"string float":          `{"rms_norm_eps":"1e-5"}`,
		"number bool":           `{"tie_word_embeddings":1}`,
		"number string":         `{"model_type":7}`,
		"architectures string":  `{"architectures":"LlamaForCausalLM"}`,
		"architectures numbers": `{"architectures":[1]}`,
		"eos list of strings":   `{"eos_token_id":["a"]}`,
		"eos object":            `{"eos_token_id":{"a":1}}`,
	} {
		if c, err := ParseHFConfig([]byte(raw)); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %+v, %v; want an ErrMalformed error", name, c, err)
		}
	}
}

func TestReadHFConfig(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadHFConfig(dir); err == nil {
		t.Fatal("missing config.json: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(gpt2Config), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadHFConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m["model_type"] != "gpt2" || m["n_embd"] != 768.0 || m["n_inner"] != nil {
		t.Errorf("ReadHFConfig = %v", m)
	}
	c, err := LoadHFConfig(dir)
	if err != nil || c.NEmbd != 768 {
		t.Errorf("LoadHFConfig = %+v, %v", c, err)
	}
}
