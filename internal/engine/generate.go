// Package engine runs models: generation with a KV cache and sampling.
package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
)

// Request is one generation.
type Request struct {
	Prompt    []int // token ids, usually starting with BOS; at least one
	MaxTokens int   // tokens to generate (> 0)
	Stop      []int // generation ends (without emitting) at any of these
	Sampling  Sampling
	KVType    tensor.DType // KV cache storage (default float32)
}

// ErrTooLong is returned when prompt + tokens exceed the model's context.
var ErrTooLong = errors.New("engine: sequence longer than the model's context")

// Generate feeds the prompt and samples up to MaxTokens tokens, calling emit
// for each new token in order (emit may stop generation by returning an
// error, which Generate returns). It returns the generated ids. ctx cancels
// between tokens.
func Generate(ctx context.Context, m model.Decoder, req Request, emit func(id int) error) ([]int, error) {
	cfg := m.Config()
	if len(req.Prompt) == 0 {
		return nil, fmt.Errorf("engine: empty prompt (start with the BOS token)")
	}
	if req.MaxTokens < 1 {
		return nil, fmt.Errorf("engine: max tokens %d must be positive", req.MaxTokens)
	}
	if err := req.Sampling.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	total := len(req.Prompt) + req.MaxTokens
	if total > cfg.MaxSeq {
		return nil, fmt.Errorf("%w: %d prompt + %d new tokens > %d", ErrTooLong, len(req.Prompt), req.MaxTokens, cfg.MaxSeq)
	}
	for _, id := range req.Prompt {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("engine: prompt token %d outside the vocabulary of %d", id, cfg.VocabSize)
		}
	}
	st := model.NewState(cfg, 1, total, req.KVType)
	sm := newSampler(req.Sampling)
	logits, err := m.Forward(st, req.Prompt, len(req.Prompt), true) // prefill
	if err != nil {
		return nil, err
	}
	var out []int
	for len(out) < req.MaxTokens {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		next := sm.next(logits)
		for _, s := range req.Stop {
			if next == s {
				return out, nil
			}
		}
		out = append(out, next)
		if emit != nil {
			if err := emit(next); err != nil {
				return out, err
			}
		}
		if len(out) == req.MaxTokens {
			break
		}
		if logits, err = m.Forward(st, []int{next}, 1, true); err != nil {
			return out, err
		}
	}
	return out, nil
}
