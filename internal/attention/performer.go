package attention

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/headlight/headlight/internal/tensor"
)

// Performer is linear attention with FAVOR+ positive orthogonal random
// features (Choromanski et al., "Rethinking Attention with Performers").
//
// It is an APPROXIMATION of softmax attention: exp(q·k/√d) is replaced by
// φ(q)·φ(k) with
//
//	φ(x) = exp(ω·x' − |x'|²/2) / √m,   x' = x / d^(1/4),   ω ~ N(0, I) (orthogonal blocks)
//
// which is unbiased for exp(q·k/√d). Time and memory are O(n·m·d) instead of
// O(n²·d). The error shrinks as 1/√m and grows with |q|·|k|; see
// TestPerformerError for measured figures. Only the causal and key-padding
// masks apply (others have no linear form); Scale must be 0 (1/√d).
type Performer struct {
	Features int
	HeadDim  int
	omega    []float64 // (features, headDim)
}

// NewPerformer draws features random projections for heads of width headDim
// from a PCG generator seeded with seed. Blocks of headDim rows are
// orthogonalised (Gram–Schmidt) and rescaled to chi-distributed norms, as in
// FAVOR+.
func NewPerformer(headDim, features int, seed uint64) (*Performer, error) {
	if headDim < 1 || features < 1 {
		return nil, fmt.Errorf("attention: Performer needs positive head dim and features (got %d, %d)", headDim, features)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	om := make([]float64, features*headDim)
	for r0 := 0; r0 < features; r0 += headDim {
		n := min(headDim, features-r0)
		block := make([][]float64, headDim)
		for i := range block {
			block[i] = make([]float64, headDim)
			for j := range block[i] {
				block[i][j] = rng.NormFloat64()
			}
		}
		gramSchmidt(block)
		for i := 0; i < n; i++ {
			var norm float64 // length of a fresh Gaussian vector: chi(headDim)
			for range headDim {
				g := rng.NormFloat64()
				norm += g * g
			}
			norm = math.Sqrt(norm)
			for j := range headDim {
				om[(r0+i)*headDim+j] = block[i][j] * norm
			}
		}
	}
	return &Performer{Features: features, HeadDim: headDim, omega: om}, nil
}

func gramSchmidt(a [][]float64) {
	for i := range a {
		for j := 0; j < i; j++ {
			var d float64
			for x := range a[i] {
				d += a[i][x] * a[j][x]
			}
			for x := range a[i] {
				a[i][x] -= d * a[j][x]
			}
		}
		var n float64
		for _, v := range a[i] {
			n += v * v
		}
		n = math.Sqrt(n)
		for x := range a[i] {
			a[i][x] /= n
		}
	}
}

// features writes φ(x) without the 1/√m factor and the exp shift c (it
// cancels between numerator and denominator): dst[r] = ω_r·x' − |x'|²/2.
func (pf *Performer) logits(dst []float64, x []float32) {
	d := pf.HeadDim
	s := math.Pow(float64(d), -0.25)
	var n2 float64
	for _, v := range x {
		n2 += float64(v) * float64(v) * s * s
	}
	for r := range dst {
		var dot float64
		w := pf.omega[r*d : (r+1)*d]
		for j, v := range x {
			dot += w[j] * float64(v) * s
		}
		dst[r] = dot - n2/2
	}
}

// Attend computes Performer attention into out, with the same layouts as
// Engine.Attend. Accumulation is in float64.
func (pf *Performer) Attend(sh Shape, o *Options, q []float32, k, v tensor.Store, out []float32) error {
	p, err := newPlan(sh, o, q, k, v, out)
	if err != nil {
		return err
	}
	sh = p.sh
	if sh.HeadDim != pf.HeadDim {
		return shapeErr("Performer drawn for head dim %d, called with %d", pf.HeadDim, sh.HeadDim)
	}
	if p.o.Window != nil || p.o.Global != nil || p.o.QOffsets != nil || p.o.KeyLens != nil || p.o.Mask != nil || p.o.Bias != nil || p.o.ALiBi != nil || p.o.Scale != 0 {
		return fmt.Errorf("attention: Performer supports only causal and key-padding masks and the default scale")
	}
	d, m := sh.HeadDim, pf.Features
	kr := make([]float32, d)
	vr := make([]float32, d)
	phiK := make([][]float64, sh.SeqK) // (seqK, features)
	phiQ := make([]float64, m)
	kv := make([]float64, m*d) // (features, headDim) Σ φ(k)·vᵀ
	ks := make([]float64, m)   // (features) Σ φ(k)
	num := make([]float64, d)  // (headDim) φ(q)·KV of one query
	for b := 0; b < sh.Batch; b++ {
		for h := 0; h < sh.Heads; h++ {
			kvh := h / p.group
			// One shift for all keys of the head keeps exp in range; it cancels.
			shift := math.Inf(-1)
			for j := range phiK {
				if phiK[j] == nil {
					phiK[j] = make([]float64, m)
				}
				k.Get(p.kvOff(b, j, kvh), kr)
				pf.logits(phiK[j], kr)
				for _, x := range phiK[j] {
					shift = math.Max(shift, x)
				}
			}
			for j := range phiK {
				for r, x := range phiK[j] {
					phiK[j][r] = math.Exp(x - shift)
				}
			}
			clear(kv)
			clear(ks)
			next := 0 // keys summed so far (causal prefix)
			addKey := func(j int) {
				if p.o.KeyPadding != nil && p.o.KeyPadding[b*sh.SeqK+j] {
					return
				}
				v.Get(p.kvOff(b, j, kvh), vr)
				for r, f := range phiK[j] {
					ks[r] += f
					row := kv[r*d : (r+1)*d]
					for x, vv := range vr {
						row[x] += f * float64(vv)
					}
				}
			}
			if !p.o.Causal {
				for ; next < sh.SeqK; next++ {
					addKey(next)
				}
			}
			for i := 0; i < sh.SeqQ; i++ {
				if p.o.Causal {
					for ; next < sh.SeqK && next <= p.o.QOffset+i; next++ {
						addKey(next)
					}
				}
				off := (b*sh.SeqQ+i)*p.qStride + h*d
				dst := out[off : off+d]
				clear(dst)
				if !p.o.headOn(h) {
					continue
				}
				pf.logits(phiQ, q[off:off+d])
				qs := math.Inf(-1)
				for _, x := range phiQ {
					qs = math.Max(qs, x)
				}
				var den float64
				clear(num)
				for r, x := range phiQ {
					f := math.Exp(x - qs)
					den += f * ks[r]
					for c, kvv := range kv[r*d : (r+1)*d] {
						num[c] += f * kvv
					}
				}
				if den > 0 {
					for c := range dst {
						dst[c] = float32(num[c] / den)
					}
				}
			}
		}
	}
	return nil
}
