// Package engine runs models: generation with a KV cache and sampling,
// alone or as a batch of requests.
package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
)

// Request is one generation.
type Request struct {
	Prompt    []int // token ids, usually starting with BOS; at least one
	MaxTokens int   // tokens to generate (> 0)
	Stop      []int // generation ends (without emitting) at any of these
	Sampling  Sampling
	KVType    tensor.DType // KV cache storage (default float32; a batch uses its first request's)
}

// ErrTooLong is returned when prompt + tokens exceed the model's context.
var ErrTooLong = errors.New("engine: sequence longer than the model's context")

func (r *Request) check(cfg model.Config) error {
	if len(r.Prompt) == 0 {
		return fmt.Errorf("engine: empty prompt (start with the BOS token)")
	}
	if r.MaxTokens < 1 {
		return fmt.Errorf("engine: max tokens %d must be positive", r.MaxTokens)
	}
	if err := r.Sampling.Validate(); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if total := len(r.Prompt) + r.MaxTokens; total > cfg.MaxSeq {
		return fmt.Errorf("%w: %d prompt + %d new tokens > %d", ErrTooLong, len(r.Prompt), r.MaxTokens, cfg.MaxSeq)
	}
	for _, id := range r.Prompt {
		if id < 0 || id >= cfg.VocabSize {
			return fmt.Errorf("engine: prompt token %d outside the vocabulary of %d", id, cfg.VocabSize)
		}
	}
	return nil
}

// Generate feeds the prompt and samples up to MaxTokens tokens, calling emit
// for each new token in order (emit may stop generation by returning an
// error, which Generate returns). It returns the generated ids. ctx cancels
// between tokens.
func Generate(ctx context.Context, m model.Decoder, req Request, emit func(id int) error) ([]int, error) {
	var em func(int, int) error
	if emit != nil {
		em = func(_, id int) error { return emit(id) }
	}
	out, err := GenerateBatch(ctx, m, []Request{req}, em)
	if len(out) == 0 {
		return nil, err
	}
	return out[0], err
}

// GenerateBatch runs several requests together: all prompts are prefilled
// in one right-padded call, then every unfinished sequence decodes one token
// per call. emit(i, id) receives request i's tokens in order. Each request
// keeps its own sampler, so results equal running the requests alone.
func GenerateBatch(ctx context.Context, m model.Decoder, reqs []Request, emit func(i, id int) error) ([][]int, error) {
	cfg := m.Config()
	if len(reqs) == 0 {
		return nil, fmt.Errorf("engine: no requests")
	}
	B, P, capacity := len(reqs), 0, 0
	for i := range reqs {
		if err := reqs[i].check(cfg); err != nil {
			return nil, fmt.Errorf("request %d: %w", i, err)
		}
		P = max(P, len(reqs[i].Prompt))
		capacity = max(capacity, len(reqs[i].Prompt)+reqs[i].MaxTokens)
	}
	// One spare row: a finished sequence still has a (masked) row written
	// while the others decode.
	st := model.NewState(cfg, B, capacity+1, reqs[0].KVType)
	samplers := make([]*Sampler, B)
	tokens := make([]int, B*P) // (batch, P) right-padded prompts
	lens := make([]int, B)     // (batch) real tokens of this call
	for b, r := range reqs {
		samplers[b] = NewSampler(r.Sampling)
		copy(tokens[b*P:], r.Prompt)
		lens[b] = len(r.Prompt)
	}
	logits, err := m.Forward(st, tokens, P, lens, true) // (batch, vocab)
	if err != nil {
		return nil, err
	}
	out := make([][]int, B)
	done := make([]bool, B)
	V := cfg.VocabSize
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		step := make([]int, B)
		for b, r := range reqs {
			lens[b] = 0
			if done[b] {
				continue
			}
			next := samplers[b].Next(logits[b*V : (b+1)*V])
			if slices.Contains(r.Stop, next) {
				done[b] = true
				continue
			}
			out[b] = append(out[b], next)
			if emit != nil {
				if err := emit(b, next); err != nil {
					return out, err
				}
			}
			if len(out[b]) == r.MaxTokens {
				done[b] = true
				continue
			}
			step[b], lens[b] = next, 1
		}
		if !slices.Contains(done, false) {
			return out, nil
		}
		if logits, err = m.Forward(st, step, 1, lens, true); err != nil {
			return out, err
		}
	}
}
