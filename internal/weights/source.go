package weights

import (
	"errors"
	"fmt"
	"slices"
)

// Source is a set of named tensors from a model file (GGUF, safetensors, …).
// Model families load their parameters through it by name, whatever the file
// format.
type Source interface {
	// Names lists the tensors in file order.
	Names() []string
	// Info returns a tensor's shape (outermost first, as PyTorch/NumPy order)
	// and storage type name ("F32", "F16", "BF16", "Q8_0", …), or ok=false.
	Info(name string) (shape []int, dtype string, ok bool)
	// F32 returns the tensor as float32 (row-major, PyTorch order), checking
	// that its shape equals want (if want is non-empty). F32 data may alias
	// the file; F16/BF16/Q8_0 are converted into a new slice. Unknown names
	// and shape mismatches are errors naming the tensor.
	F32(name string, want ...int) ([]float32, error)
	// Close releases the file. Slices that alias it must not be used after.
	Close() error
}

// Errors a Source wraps, so that callers can tell them apart with errors.Is.
var (
	// ErrNoTensor: the file has no tensor of that name.
	ErrNoTensor = errors.New("weights: no such tensor")
	// ErrShape: the tensor's shape is not the one the caller asked for.
	ErrShape = errors.New("weights: tensor shape mismatch")
	// ErrUnsupported: the tensor's storage type cannot be converted to float32.
	ErrUnsupported = errors.New("weights: unsupported tensor type")
)

// checkShape returns nil when want is empty or equals shape, else an error
// wrapping ErrShape that names the tensor and both shapes.
func checkShape(name string, shape, want []int) error {
	if len(want) == 0 || slices.Equal(shape, want) {
		return nil
	}
	return fmt.Errorf("%w: tensor %q has shape %v, want %v", ErrShape, name, shape, want)
}

// noTensor is the error for a name the file does not hold.
func noTensor(name string) error {
	return fmt.Errorf("%w: %q", ErrNoTensor, name)
}
