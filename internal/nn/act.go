package nn

import (
	"fmt"
	"math"
)

// GELUErf applies the exact GELU in place: 0.5·x·(1 + erf(x/√2)), Hugging
// Face's "gelu" (BERT, BART), computed in float64.
func GELUErf(x []float32) {
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
}

// ReLU applies max(x, 0) in place.
func ReLU(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// Activation returns the in-place function of a Hugging Face activation
// name (hidden_act, activation_function): "gelu" is the exact erf form,
// "gelu_new" / "gelu_pytorch_tanh" the tanh approximation, and "relu".
func Activation(name string) (func([]float32), error) {
	switch name {
	case "gelu":
		return GELUErf, nil
	case "gelu_new", "gelu_pytorch_tanh":
		return GELU, nil
	case "relu":
		return ReLU, nil
	}
	return nil, fmt.Errorf("activation %q is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)", name)
}
