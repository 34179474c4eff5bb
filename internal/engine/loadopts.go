package engine

import (
	"fmt"
	"io"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
	"github.com/headlight/headlight/internal/weights"
)

// LoadOptions are LoadWithOptions' opt-in choices; the zero value is Load.
type LoadOptions struct {
	// Progress, when set, receives a progress bar for loads over a second
	// (as LoadWithProgress).
	Progress io.Writer
	// Weights is the precision the model keeps its attention projections
	// and feed-forward weights in: tensor.F32 (the default: the file's
	// values, packed once into the panels of kernels.MatMulPanels), or
	// tensor.BF16 / tensor.F16, rounded once at load (round to nearest
	// even) to halve the bytes each decoding step streams, products still
	// accumulating in float32. Families that cannot (not a
	// model.WeightStorer) keep float32 as the file has it, and fail to load
	// in half precision.
	Weights tensor.DType
}

// LoadWithOptions is Load with LoadOptions.
func LoadWithOptions(path, tokPath string, eng *attention.Engine, o LoadOptions) (*Loaded, error) {
	ld, err := loadFile(path, tokPath, eng, o.Progress)
	if err != nil {
		return nil, err
	}
	ws, ok := ld.Model.(model.WeightStorer)
	if !ok {
		if o.Weights == tensor.F32 {
			return ld, nil
		}
		ld.Close()
		return nil, fmt.Errorf("model %s: the %s family cannot keep its weights in %v", ld.Name, ld.Model.Config().Family, o.Weights)
	}
	// The stored weights are copies: the file pages they were read from
	// need not stay resident (tensors still viewing the mapping fault theirs
	// back in), so they are dropped after every layer. Advice only, so an
	// error changes nothing.
	drop := func() { _ = weights.DropPages(ld.closer) }
	if err := ws.StoreWeights(o.Weights, drop); err != nil {
		ld.Close()
		return nil, fmt.Errorf("model %s: %w", ld.Name, err)
	}
	return ld, nil
}
