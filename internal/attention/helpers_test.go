package attention

import (
	"testing"

	"github.com/headlight/headlight/internal/kernels"
)

func newTestEngine(threads int) *Engine {
	return NewEngine(kernels.NewPool(threads))
}

var _ = testing.Short
