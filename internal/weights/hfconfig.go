package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// ReadHFConfig reads dir/config.json, a Hugging Face model configuration, as
// a generic JSON object (numbers are float64).
func ReadHFConfig(dir string) (map[string]any, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return parseHFConfigMap(raw)
}

// parseHFConfigMap decodes a JSON object.
func parseHFConfigMap(raw []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrMalformed, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: config.json is not an object", ErrMalformed)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: config.json: data after the object", ErrMalformed)
	}
	return m, nil
}

// HFConfig holds the common fields of a Hugging Face config.json under their
// JSON names (Llama/BERT style, GPT-2 style, T5 style), with the whole object
// in Raw. A field that is absent is zero (false, ""), except the token ids,
// which are -1; Int, Float, Bool and Str tell absence apart and look up
// several spellings in turn, e.g. c.Int("hidden_size", "n_embd", "d_model").
// A listed key whose value has the wrong JSON type (or a non-integral number
// for an integer) is an error, not a silent zero. For token ids given as a
// list (eos_token_id: [1, 2]) the field holds the first; Ints has them all.
type HFConfig struct {
	Raw map[string]any

	ModelType     string   // model_type
	Architectures []string // architectures

	HiddenSize            int     // hidden_size
	IntermediateSize      int     // intermediate_size
	NumHiddenLayers       int     // num_hidden_layers
	NumAttentionHeads     int     // num_attention_heads
	NumKeyValueHeads      int     // num_key_value_heads
	VocabSize             int     // vocab_size
	MaxPositionEmbeddings int     // max_position_embeddings
	TypeVocabSize         int     // type_vocab_size
	RMSNormEps            float64 // rms_norm_eps
	LayerNormEps          float64 // layer_norm_eps
	LayerNormEpsilon      float64 // layer_norm_epsilon
	RopeTheta             float64 // rope_theta
	TieWordEmbeddings     bool    // tie_word_embeddings

	NEmbd      int // n_embd (GPT-2)
	NLayer     int // n_layer
	NHead      int // n_head
	NPositions int // n_positions
	NInner     int // n_inner (null means 4·n_embd: stays 0)

	DModel                        int    // d_model (T5)
	DFF                           int    // d_ff
	NumLayers                     int    // num_layers
	NumDecoderLayers              int    // num_decoder_layers
	NumHeads                      int    // num_heads
	DKV                           int    // d_kv
	RelativeAttentionNumBuckets   int    // relative_attention_num_buckets
	RelativeAttentionMaxDistance  int    // relative_attention_max_distance
	FeedForwardProj               string // feed_forward_proj
	IsEncoderDecoder              bool   // is_encoder_decoder
	BOSTokenID, EOSTokenID        int    // bos_token_id, eos_token_id (-1: absent)
	PadTokenID, DecoderStartToken int    // pad_token_id, decoder_start_token_id (-1: absent)
}

// LoadHFConfig reads dir/config.json into an HFConfig.
func LoadHFConfig(dir string) (*HFConfig, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return ParseHFConfig(raw)
}

// ParseHFConfig decodes the bytes of a config.json into an HFConfig.
func ParseHFConfig(raw []byte) (*HFConfig, error) {
	m, err := parseHFConfigMap(raw)
	if err != nil {
		return nil, err
	}
	c := &HFConfig{Raw: m}
	ints := map[string]*int{
		"hidden_size": &c.HiddenSize, "intermediate_size": &c.IntermediateSize,
		"num_hidden_layers": &c.NumHiddenLayers, "num_attention_heads": &c.NumAttentionHeads,
		"num_key_value_heads": &c.NumKeyValueHeads, "vocab_size": &c.VocabSize,
		"max_position_embeddings": &c.MaxPositionEmbeddings, "type_vocab_size": &c.TypeVocabSize,
		"n_embd": &c.NEmbd, "n_layer": &c.NLayer, "n_head": &c.NHead, "n_positions": &c.NPositions,
		"n_inner": &c.NInner, "d_model": &c.DModel, "d_ff": &c.DFF, "num_layers": &c.NumLayers,
		"num_decoder_layers": &c.NumDecoderLayers, "num_heads": &c.NumHeads, "d_kv": &c.DKV,
		"relative_attention_num_buckets":  &c.RelativeAttentionNumBuckets,
		"relative_attention_max_distance": &c.RelativeAttentionMaxDistance,
	}
	for key, dst := range ints {
		if err := c.fill(key, dst, false); err != nil {
			return nil, err
		}
	}
	ids := map[string]*int{
		"bos_token_id": &c.BOSTokenID, "eos_token_id": &c.EOSTokenID,
		"pad_token_id": &c.PadTokenID, "decoder_start_token_id": &c.DecoderStartToken,
	}
	for key, dst := range ids {
		*dst = -1
		if err := c.fill(key, dst, true); err != nil {
			return nil, err
		}
	}
	floats := map[string]*float64{
		"rms_norm_eps": &c.RMSNormEps, "layer_norm_eps": &c.LayerNormEps,
		"layer_norm_epsilon": &c.LayerNormEpsilon, "rope_theta": &c.RopeTheta,
	}
	for key, dst := range floats {
		if v, ok := m[key]; ok && v != nil {
			f, isNum := v.(float64)
			if !isNum {
				return nil, typeErr(key, v, "a number")
			}
			*dst = f
		}
	}
	for key, dst := range map[string]*bool{"tie_word_embeddings": &c.TieWordEmbeddings, "is_encoder_decoder": &c.IsEncoderDecoder} {
		if v, ok := m[key]; ok && v != nil {
			b, isBool := v.(bool)
			if !isBool {
				return nil, typeErr(key, v, "a boolean")
			}
			*dst = b
		}
	}
	for key, dst := range map[string]*string{"model_type": &c.ModelType, "feed_forward_proj": &c.FeedForwardProj} {
		if v, ok := m[key]; ok && v != nil {
			s, isStr := v.(string)
			if !isStr {
				return nil, typeErr(key, v, "a string")
			}
			*dst = s
		}
	}
	if v, ok := m["architectures"]; ok && v != nil {
		list, isList := v.([]any)
		for _, a := range list {
			s, isStr := a.(string)
			if !isStr {
				isList = false
				break
			}
			c.Architectures = append(c.Architectures, s)
		}
		if !isList {
			return nil, typeErr("architectures", v, "a list of strings")
		}
	}
	return c, nil
}

// fill stores the integer at key into dst (null and absent leave dst alone).
// With listOK a list of integers is accepted and its first element stored.
func (c *HFConfig) fill(key string, dst *int, listOK bool) error {
	v, ok := c.Raw[key]
	if !ok || v == nil {
		return nil
	}
	if list, isList := v.([]any); isList && listOK {
		if len(list) == 0 {
			return nil
		}
		v = list[0]
	}
	n, isInt := asInt(v)
	if !isInt {
		return typeErr(key, v, "an integer")
	}
	*dst = n
	return nil
}

// asInt converts a JSON number with an integral value that fits in an int.
func asInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// typeErr reports a config value of the wrong JSON type.
func typeErr(key string, v any, want string) error {
	return fmt.Errorf("%w: config.json: %s is %T (%v), want %s", ErrMalformed, key, v, v, want)
}

// Int returns the integer value of the first of keys that is present and
// not null. A value that is not an integral number counts as absent.
func (c *HFConfig) Int(keys ...string) (int, bool) {
	for _, k := range keys {
		if v, ok := c.Raw[k]; ok && v != nil {
			return asInt(v)
		}
	}
	return 0, false
}

// Ints returns the integers of key, a single integer or a list of them.
func (c *HFConfig) Ints(key string) ([]int, bool) {
	v, ok := c.Raw[key]
	if !ok || v == nil {
		return nil, false
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	out := make([]int, len(list))
	for i, e := range list {
		n, isInt := asInt(e)
		if !isInt {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// Float returns the numeric value of the first of keys present and not null.
func (c *HFConfig) Float(keys ...string) (float64, bool) {
	for _, k := range keys {
		if v, ok := c.Raw[k]; ok && v != nil {
			f, isNum := v.(float64)
			return f, isNum
		}
	}
	return 0, false
}

// Bool returns the boolean value of the first of keys present and not null.
func (c *HFConfig) Bool(keys ...string) (bool, bool) {
	for _, k := range keys {
		if v, ok := c.Raw[k]; ok && v != nil {
			b, isBool := v.(bool)
			return b, isBool
		}
	}
	return false, false
}

// Str returns the string value of the first of keys present and not null.
func (c *HFConfig) Str(keys ...string) (string, bool) {
	for _, k := range keys {
		if v, ok := c.Raw[k]; ok && v != nil {
			s, isStr := v.(string)
			return s, isStr
		}
	}
	return "", false
}
