// Package nn holds the small layers transformer families share: norms,
// activations, embeddings and the argmax/softmax used on logits.
package nn

import (
	"fmt"
	"math"

	"github.com/headlight/headlight/internal/kernels"
)

// RMSNorm writes out = w ⊙ x / √(mean(x²) + eps) for each row of width
// len(w). x and out are (rows, dim); they may be the same slice.
func RMSNorm(out, x, w []float32, eps float32) {
	dim := len(w)
	if len(x)%dim != 0 || len(out) != len(x) {
		panic(fmt.Sprintf("nn.RMSNorm: %d inputs, %d outputs for width %d", len(x), len(out), dim))
	}
	for r := 0; r < len(x); r += dim {
		row := x[r : r+dim]
		var ss float32
		for _, v := range row {
			ss += v * v
		}
		ss = ss/float32(dim) + eps
		inv := float32(1 / math.Sqrt(float64(ss)))
		o := out[r : r+dim]
		for i, v := range row {
			o[i] = w[i] * (inv * v)
		}
	}
}

// LayerNorm writes out = (x − mean)/√(var + eps) ⊙ w + b per row of width
// len(w); b may be nil.
func LayerNorm(out, x, w, b []float32, eps float32) {
	dim := len(w)
	if len(x)%dim != 0 || len(out) != len(x) {
		panic(fmt.Sprintf("nn.LayerNorm: %d inputs, %d outputs for width %d", len(x), len(out), dim))
	}
	for r := 0; r < len(x); r += dim {
		row := x[r : r+dim]
		var mean float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(dim)
		var vr float64
		for _, v := range row {
			d := float64(v) - mean
			vr += d * d
		}
		inv := 1 / math.Sqrt(vr/float64(dim)+float64(eps))
		o := out[r : r+dim]
		for i, v := range row {
			y := float32((float64(v)-mean)*inv) * w[i]
			if b != nil {
				y += b[i]
			}
			o[i] = y
		}
	}
}

// SwiGLU computes g = silu(g) ⊙ u in place: silu(x) = x·σ(x).
func SwiGLU(g, u []float32) {
	if len(g) != len(u) {
		panic("nn.SwiGLU: length mismatch")
	}
	// e^-x for a block at a time with the vector exp (within 1 ulp of
	// math.Exp; kernels.Exp), then x·sigmoid(x)·u.
	var e [256]float32
	for i0 := 0; i0 < len(g); i0 += len(e) {
		gb := g[i0:min(i0+len(e), len(g))]
		ub, eb := u[i0:i0+len(gb)], e[:len(gb)]
		for i, x := range gb {
			eb[i] = -x
		}
		kernels.ExpShiftSum(eb, eb, 0)
		for i, x := range gb {
			gb[i] = x * (1 / (1 + eb[i])) * ub[i]
		}
	}
}

// GELU applies the tanh approximation of GELU in place (GPT-2's "gelu_new").
func GELU(x []float32) {
	const c = 0.7978845608028654 // √(2/π)
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Tanh(c*(f+0.044715*f*f*f))))
	}
}

// Embed copies rows ids of table (vocab, dim) into out (len(ids), dim).
// An id outside the vocabulary is an error (it comes from user input).
func Embed(out, table []float32, dim int, ids []int) error {
	vocab := len(table) / dim
	if len(out) != len(ids)*dim {
		panic(fmt.Sprintf("nn.Embed: out has %d values for %d ids × %d", len(out), len(ids), dim))
	}
	for n, id := range ids {
		if id < 0 || id >= vocab {
			return fmt.Errorf("nn: token id %d outside the vocabulary of %d", id, vocab)
		}
		copy(out[n*dim:(n+1)*dim], table[id*dim:(id+1)*dim])
	}
	return nil
}

// Add computes x += y.
func Add(x, y []float32) {
	if len(x) != len(y) {
		panic("nn.Add: length mismatch")
	}
	for i, v := range y {
		x[i] += v
	}
}

// Argmax returns the index of the largest value (the first on ties), as
// llama2.c's sample_argmax.
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
