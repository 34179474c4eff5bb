package engine

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
)

func loadDefault(t *testing.T) *Loaded {
	t.Helper()
	ld, err := Load("", "", attention.NewEngine(kernels.NewPool(2)))
	if err != nil {
		t.Fatal(err)
	}
	return ld
}

// TestBatchEqualsAlone: prompts of different lengths generated as one batch
// give the same tokens as each generated alone (greedy and seeded sampling).
func TestBatchEqualsAlone(t *testing.T) {
	ld := loadDefault(t)
	tok := ld.Tokenizer
	reqs := []Request{
		{Prompt: tok.Encode("Once upon a time", true, false), MaxTokens: 30},
		{Prompt: []int{tok.BOS()}, MaxTokens: 45},
		{Prompt: tok.Encode("The little dog ran to the park and saw a big", true, false), MaxTokens: 12},
		{Prompt: tok.Encode("Lily", true, false), MaxTokens: 25, Sampling: Sampling{Temperature: 0.9, TopP: 0.9, Seed: 5}},
	}
	ctx := context.Background()
	emitted := make([][]int, len(reqs))
	batch, err := GenerateBatch(ctx, ld.Model, reqs, func(i, id int) error { emitted[i] = append(emitted[i], id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		alone, err := Generate(ctx, ld.Model, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(batch[i], alone) {
			t.Errorf("request %d: batch %v\nalone %v", i, batch[i], alone)
		}
		if !slices.Equal(emitted[i], batch[i]) {
			t.Errorf("request %d: emitted %v, returned %v", i, emitted[i], batch[i])
		}
		if len(alone) != r.MaxTokens {
			t.Errorf("request %d: %d tokens, want %d", i, len(alone), r.MaxTokens)
		}
	}
}

func TestGenerateStopsAndErrors(t *testing.T) {
	ld := loadDefault(t)
	ctx := context.Background()
	full, err := Generate(ctx, ld.Model, Request{Prompt: []int{1}, MaxTokens: 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Stopping at the 5th token's id ends before emitting it.
	stop := full[4]
	first := slices.Index(full, stop)
	got, err := Generate(ctx, ld.Model, Request{Prompt: []int{1}, MaxTokens: 20, Stop: []int{stop}}, nil)
	if err != nil || !slices.Equal(got, full[:first]) {
		t.Errorf("stop token %d: got %v (%v), want %v", stop, got, err, full[:first])
	}
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	_, err = Generate(cctx, ld.Model, Request{Prompt: []int{1}, MaxTokens: 100}, func(int) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("cancellation: err %v after %d tokens", err, n)
	}
	for _, bad := range []Request{
		{Prompt: nil, MaxTokens: 1},
		{Prompt: []int{1}, MaxTokens: 0},
		{Prompt: []int{1}, MaxTokens: 600},
		{Prompt: []int{1, 999}, MaxTokens: 1},
		{Prompt: []int{1}, MaxTokens: 1, Sampling: Sampling{TopP: 2}},
	} {
		if _, err := Generate(ctx, ld.Model, bad, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := Generate(ctx, ld.Model, Request{Prompt: []int{1}, MaxTokens: 600}, nil); !errors.Is(err, ErrTooLong) {
		t.Errorf("too long: %v", err)
	}
}
