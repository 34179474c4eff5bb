// Package model defines what every transformer family provides and the
// registry families add themselves to.
package model

import (
	"fmt"
	"sort"
	"sync"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

// HF is a Hugging Face checkpoint directory: config.json and its tensors.
type HF struct {
	Config  *weights.HFConfig
	Tensors weights.Source
}

// GGUF is a GGUF file: its metadata, and its tensors (the file itself, or a
// wrapper of it that reports progress).
type GGUF struct {
	File    *weights.GGUF
	Tensors weights.Source
}

// LastRows keeps the last real row of each sequence of x (batch·seq, dim):
// row lens[b]-1 (or seq-1 when lens is nil; a sequence of length 0 gives
// row 0, which is meaningless). It returns (batch, dim), lent by ar (nil:
// allocated).
func LastRows(ar *tensor.Arena, x []float32, dim, batch, seq int, lens []int) []float32 {
	last := ar.Floats(batch * dim) // (batch, dim)
	for b := 0; b < batch; b++ {
		p := seq - 1
		if lens != nil {
			p = max(lens[b]-1, 0)
		}
		copy(last[b*dim:(b+1)*dim], x[(b*seq+p)*dim:(b*seq+p+1)*dim])
	}
	return last
}

// Config holds the hyper-parameters shared by the families.
type Config struct {
	Family    string
	Dim       int     // model width
	HiddenDim int     // feed-forward width
	Layers    int     // transformer blocks
	Heads     int     // query heads
	KVHeads   int     // key/value heads (grouped-query when < Heads)
	HeadDim   int     // Dim / Heads
	VocabSize int     // tokens
	MaxSeq    int     // longest sequence the model was trained for
	RopeTheta float64 // RoPE base (0 when the family has no RoPE)
	NormEps   float32 // epsilon of the norms
}

// State is one batch of sequences being decoded together: a KV cache per
// layer and where the statistics go.
type State struct {
	Batch  int
	Caches []*attention.KVCache // (layer) each (batch, maxSeq, kvHeads·headDim)
	// Probe, when set, receives every layer's attention statistics.
	Probe attention.Probe
	// Capture, when set, names the heads whose attention maps layer l
	// should return; OnMaps then receives them, (seqQ, seqK) each.
	Capture func(layer int) []attention.HeadRef
	OnMaps  func(layer int, heads []attention.HeadRef, maps [][]float32)
	// Arena lends a forward pass its activations; the family resets it at
	// the start of each pass, so decoding steps reuse the buffers of the
	// pass before (NewState sets a fresh one; states may share one when
	// they never run at the same time).
	Arena *tensor.Arena
	stats attention.Stats
}

// Report hands layer l's attention call to the probe (its statistics) and
// to OnMaps (the maps Capture asked for), when they are set.
func (s *State) Report(l int, in *attention.Input) {
	if s.Probe != nil && in.Stats != nil {
		s.Probe.ObserveAttention(l, in.Stats)
	}
	if in.Maps != nil && s.OnMaps != nil {
		s.OnMaps(l, in.MapHeads, in.Maps)
	}
}

// MapHeads is what Capture asks of layer l (nil without Capture).
func (s *State) MapHeads(l int) []attention.HeadRef {
	if s.Capture == nil {
		return nil
	}
	return s.Capture(l)
}

// Pos is the number of positions already in the caches.
func (s *State) Pos() int {
	if len(s.Caches) == 0 {
		return 0
	}
	return s.Caches[0].MaxLen()
}

// NewState allocates caches for batch sequences of up to maxSeq positions.
func NewState(c Config, batch, maxSeq int, kv tensor.DType) *State {
	s := &State{Batch: batch, Caches: make([]*attention.KVCache, c.Layers), Arena: new(tensor.Arena)}
	for l := range s.Caches {
		s.Caches[l] = attention.NewKVCache(kv, batch, c.KVHeads, c.HeadDim, maxSeq)
	}
	return s
}

// Stats is where a family's Forward lets the attention engine write its
// statistics when a probe is attached (nil otherwise).
func (s *State) Stats() *attention.Stats {
	if s.Probe == nil {
		return nil
	}
	return &s.stats
}

// Decoder is a decoder-only language model.
type Decoder interface {
	Config() Config
	// Forward feeds tokens (batch, seq) at the State's next positions and
	// returns logits (batch, seq, vocab) — or (batch, vocab) for the last
	// real position of each sequence when lastOnly is set. lens (batch), when
	// non-nil, says how many of the seq tokens of each sequence are real
	// (right padding); sequences then advance by their own lengths, and a
	// sequence with length 0 sits the call out (its logits are meaningless).
	Forward(s *State, tokens []int, seq int, lens []int, lastOnly bool) ([]float32, error)
}

// Source is what a family is built from: a parsed model file.
type Source any

// Constructor builds a family's model from a source it understands.
type Constructor func(src Source, eng *attention.Engine) (Decoder, error)

var (
	mu       sync.Mutex
	registry = map[string]Constructor{}
)

// Register adds a family; it panics on a duplicate name (a programmer error).
func Register(family string, c Constructor) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[family]; dup {
		panic("model.Register: duplicate family " + family)
	}
	registry[family] = c
}

// New builds a model of the named family.
func New(family string, src Source, eng *attention.Engine) (Decoder, error) {
	mu.Lock()
	c, ok := registry[family]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("model: unknown family %q (known: %v)", family, Families())
	}
	return c(src, eng)
}

// Families lists the registered family names.
func Families() []string {
	mu.Lock()
	defer mu.Unlock()
	var f []string
	for k := range registry {
		f = append(f, k)
	}
	sort.Strings(f)
	return f
}
