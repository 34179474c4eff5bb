package attention

import (
	"math"

	"github.com/headlight/headlight/internal/tensor"
)

// HeadRef names one (batch, head) pair.
type HeadRef struct{ Batch, Head int }

// Reference computes attention the explicit way, in float64: for every
// (batch, head) it builds the whole seqQ×seqK matrix of logits, applies every
// mask element by element, takes the softmax and multiplies by V. It returns
// out (batch, seqQ, heads·headDim) and weights (batch, heads, seqQ, seqK).
// It is O(seqQ·seqK) in memory and exists to check the fused kernel and to
// draw attention maps; heads switched off by HeadMask get zero output but
// their weights are still computed.
func Reference(sh Shape, o *Options, q []float32, k, v tensor.Store) (out, weights []float32, err error) {
	p, err := newPlan(sh, o, q, k, v, nil)
	if err != nil {
		return nil, nil, err
	}
	sh = p.sh
	out = make([]float32, sh.QLen())
	weights = make([]float32, sh.Batch*sh.Heads*sh.SeqQ*sh.SeqK)
	for b := 0; b < sh.Batch; b++ {
		for h := 0; h < sh.Heads; h++ {
			w := weights[(b*sh.Heads+h)*sh.SeqQ*sh.SeqK : (b*sh.Heads+h+1)*sh.SeqQ*sh.SeqK]
			p.refHead(q, k, v, out, w, b, h)
		}
	}
	return out, weights, nil
}

// Maps returns the attention weights (seqQ, seqK) of the chosen heads only,
// computed by the explicit path. Use it when a user asks to see a map; the
// fused kernel never builds one.
func Maps(sh Shape, o *Options, q []float32, k, v tensor.Store, heads []HeadRef) ([][]float32, error) {
	p, err := newPlan(sh, o, q, k, v, nil)
	if err != nil {
		return nil, err
	}
	sh = p.sh
	maps := make([][]float32, len(heads))
	for n, hr := range heads {
		if hr.Batch < 0 || hr.Batch >= sh.Batch || hr.Head < 0 || hr.Head >= sh.Heads {
			return nil, shapeErr("map of (batch %d, head %d) asked, but shape has %d×%d", hr.Batch, hr.Head, sh.Batch, sh.Heads)
		}
		maps[n] = make([]float32, sh.SeqQ*sh.SeqK)
		p.refHead(q, k, v, nil, maps[n], hr.Batch, hr.Head)
	}
	return maps, nil
}

// refHead fills w (seqQ, seqK) for (b, h) and, when out is non-nil, that
// head's columns of out.
func (p *plan) refHead(q []float32, k, v tensor.Store, out, w []float32, b, h int) {
	sh := &p.sh
	d := sh.HeadDim
	kvh := h / p.group
	kr := make([]float32, d)
	vr := make([]float32, d)
	logits := make([]float64, sh.SeqK)
	allowed := make([]bool, sh.SeqK)
	acc := make([]float64, d)
	for i := 0; i < sh.SeqQ; i++ {
		qoff := (b*sh.SeqQ+i)*p.qStride + h*d
		qrow := q[qoff : qoff+d]
		mx := math.Inf(-1)
		for j := 0; j < sh.SeqK; j++ {
			bias, ok := p.refRule(b, h, i, j)
			allowed[j] = ok
			if !ok {
				continue
			}
			k.Get(p.kvOff(b, j, kvh), kr)
			var dot float64
			for x := range d {
				dot += float64(qrow[x]) * float64(kr[x])
			}
			logits[j] = float64(p.scale)*dot + bias
			mx = math.Max(mx, logits[j])
		}
		var z float64
		for j := range logits {
			if allowed[j] {
				logits[j] = math.Exp(logits[j] - mx)
				z += logits[j]
			}
		}
		clear(acc)
		for j := range logits {
			if !allowed[j] {
				continue
			}
			pj := logits[j] / z
			w[i*sh.SeqK+j] = float32(pj)
			v.Get(p.kvOff(b, j, kvh), vr)
			for x := range d {
				acc[x] += pj * float64(vr[x])
			}
		}
		if out != nil && p.o.headOn(h) {
			for x := range d {
				out[qoff+x] = float32(acc[x])
			}
		}
	}
}

// refRule is the mask and bias rule for one (query, key) pair, written out
// literally from the Options documentation.
func (p *plan) refRule(b, h, i, j int) (bias float64, ok bool) {
	o := &p.o
	sh := &p.sh
	qp, kp := o.QOffset+i, j
	if o.QOffsets != nil {
		qp = o.QOffsets[b] + i
	}
	if o.Causal && kp > qp {
		return 0, false
	}
	if o.KeyLens != nil && j >= o.KeyLens[b] {
		return 0, false
	}
	if o.KeyPadding != nil && o.KeyPadding[b*sh.SeqK+j] {
		return 0, false
	}
	if m := o.Mask; m != nil && m.Data[(((b%m.Batch)*m.Heads+h%m.Heads)*sh.SeqQ+i)*sh.SeqK+j] {
		return 0, false
	}
	if w := o.Window; w != nil {
		local := (w.Left < 0 || qp-kp <= w.Left) && (w.Right < 0 || kp-qp <= w.Right)
		if len(o.Global) > 0 && !local {
			for _, g := range o.Global {
				if g == qp || g == kp {
					local = true
				}
			}
		}
		if !local {
			return 0, false
		}
	}
	if bb := o.Bias; bb != nil {
		bias = float64(bb.Data[(((b%bb.Batch)*bb.Heads+h%bb.Heads)*sh.SeqQ+i)*sh.SeqK+j])
	}
	if o.ALiBi != nil {
		bias -= float64(o.ALiBi[h]) * math.Abs(float64(qp-kp))
	}
	if math.IsInf(bias, -1) {
		return 0, false
	}
	return bias, true
}
