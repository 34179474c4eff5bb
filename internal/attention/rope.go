package attention

import (
	"fmt"
	"math"
)

// RoPELayout says which coordinates of a head form the rotated pairs.
type RoPELayout uint8

const (
	// RoPEInterleaved rotates adjacent pairs (x[2i], x[2i+1]): Meta's Llama
	// and llama2.c.
	RoPEInterleaved RoPELayout = iota
	// RoPEHalf rotates (x[i], x[i+d/2]): GPT-NeoX and Hugging Face's
	// rotate_half.
	RoPEHalf
)

func (l RoPELayout) String() string {
	if l == RoPEHalf {
		return "half"
	}
	return "interleaved"
}

// RoPE is rotary position embedding: pair i of a head at position p is
// rotated by the angle p·θ^(-2i/d).
type RoPE struct {
	Layout  RoPELayout
	HeadDim int
	invFreq []float64 // (headDim/2) θ^(-2i/headDim)
}

// NewRoPE prepares rotary embeddings for heads of width headDim (even) with
// base theta (10000 for most models).
func NewRoPE(layout RoPELayout, headDim int, theta float64) (*RoPE, error) {
	if headDim < 2 || headDim%2 != 0 {
		return nil, fmt.Errorf("attention: RoPE needs an even head dim, got %d", headDim)
	}
	if !(theta > 1) || math.IsInf(theta, 0) {
		return nil, fmt.Errorf("attention: RoPE base %v must be a finite number above 1", theta)
	}
	r := &RoPE{Layout: layout, HeadDim: headDim, invFreq: make([]float64, headDim/2)}
	for i := range r.invFreq {
		r.invFreq[i] = math.Pow(theta, -float64(2*i)/float64(headDim))
	}
	return r, nil
}

// Apply rotates x in place. x holds len(positions) rows of heads·headDim
// values — (rows, heads, headDim) — and row n is at position positions[n].
func (r *RoPE) Apply(x []float32, heads int, positions []int) {
	d := r.HeadDim
	if len(x) != len(positions)*heads*d {
		panic(fmt.Sprintf("attention.RoPE.Apply: %d values for %d rows × %d heads × %d", len(x), len(positions), heads, d))
	}
	half := d / 2
	for n, pos := range positions {
		row := x[n*heads*d : (n+1)*heads*d]
		for i, f := range r.invFreq {
			sin, cos := math.Sincos(float64(pos) * f)
			c, s := float32(cos), float32(sin)
			for h := 0; h < heads; h++ {
				var a, b *float32
				if r.Layout == RoPEInterleaved {
					a, b = &row[h*d+2*i], &row[h*d+2*i+1]
				} else {
					a, b = &row[h*d+i], &row[h*d+i+half]
				}
				x0, x1 := *a, *b
				*a = x0*c - x1*s
				*b = x0*s + x1*c
			}
		}
	}
}

// Positions returns [start, start+n).
func Positions(start, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = start + i
	}
	return p
}
