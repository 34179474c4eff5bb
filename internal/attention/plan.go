package attention

import (
	"math"

	"github.com/headlight/headlight/internal/tensor"
)

var negInf = float32(math.Inf(-1))

// plan is one validated call: sizes, strides and the mask rules in the form
// the kernels use.
type plan struct {
	sh       Shape
	o        Options // copy with defaults; never nil
	scale    float32
	group    int // query heads per KV head
	qStride  int // heads·headDim: row stride of q and out
	kvStride int // kvHeads·headDim: row stride of k and v
	// global[pos] marks Longformer global positions (nil when none).
	global []bool
	// elementwise is set when some mask or bias must be looked at per key.
	elementwise bool
	// winL, winR bound the key range around a query; -1 = unbounded. When
	// Global is set the window moves to the elementwise pass.
	winL, winR int
}

func newPlan(sh Shape, o *Options, q []float32, k, v tensor.Store, out []float32) (*plan, error) {
	p := new(plan)
	if err := p.init(sh, o, q, k, v, out); err != nil {
		return nil, err
	}
	return p, nil
}

// init validates a call and sets p up for it (p may be reused).
func (p *plan) init(sh Shape, o *Options, q []float32, k, v tensor.Store, out []float32) error {
	sh, err := sh.norm()
	if err != nil {
		return err
	}
	if err := o.check(sh); err != nil {
		return err
	}
	if len(q) != sh.QLen() {
		return shapeErr("q has %d values, want batch·seqQ·heads·headDim = %d", len(q), sh.QLen())
	}
	if out != nil && len(out) != sh.QLen() {
		return shapeErr("out has %d values, want %d", len(out), sh.QLen())
	}
	if k.Len() != sh.KVLen() || v.Len() != sh.KVLen() {
		return shapeErr("k has %d and v %d values, want batch·kvCap·kvHeads·headDim = %d", k.Len(), v.Len(), sh.KVLen())
	}
	*p = plan{sh: sh, scale: sh.scale(o), group: sh.Heads / sh.KVHeads,
		qStride: sh.Heads * sh.HeadDim, kvStride: sh.KVHeads * sh.HeadDim, winL: -1, winR: -1}
	if o != nil {
		p.o = *o
	}
	if w := p.o.Window; w != nil && len(p.o.Global) == 0 {
		p.winL, p.winR = w.Left, w.Right
	}
	if len(p.o.Global) > 0 {
		n := max(sh.SeqK, p.o.QOffset+sh.SeqQ)
		for _, q := range p.o.QOffsets {
			n = max(n, q+sh.SeqQ)
		}
		p.global = make([]bool, n)
		for _, g := range p.o.Global {
			if g < n {
				p.global[g] = true
			}
		}
	}
	p.elementwise = p.o.KeyPadding != nil || p.o.Mask != nil || p.o.Bias != nil || p.o.ALiBi != nil || p.global != nil
	return nil
}

// keyRange is the half-open range of keys that causality, the window and
// KeyLens allow for a query of sequence b at position qp, clipped to
// [0, seqK).
func (p *plan) keyRange(b, qp int) (lo, hi int) {
	lo, hi = 0, p.o.keyLen(b, p.sh.SeqK)
	if p.o.Causal {
		hi = min(hi, qp+1)
	}
	if p.winL >= 0 {
		lo = max(lo, qp-p.winL)
	}
	if p.winR >= 0 {
		hi = min(hi, qp+p.winR+1)
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// inWindow is the window rule for one pair, used when Global is set.
func (p *plan) inWindow(qp, kp int) bool {
	w := p.o.Window
	if w == nil {
		return true
	}
	return (w.Left < 0 || qp-kp <= w.Left) && (w.Right < 0 || kp-qp <= w.Right)
}

// kvOff is the offset of key/value row j of batch b, head kvh.
func (p *plan) kvOff(b, j, kvh int) int {
	return (b*p.sh.KVCap+j)*p.kvStride + kvh*p.sh.HeadDim
}

func (p *plan) isGlobal(pos int) bool { return pos < len(p.global) && p.global[pos] }

// applyElementwise adjusts the logits s[j-k0] of keys j in [lo, hi) for query
// i (position qp) of batch b and head h: forbidden keys become -Inf, biases
// are added. Keys outside [lo, hi) are not touched. It returns how many keys
// the masks forbade, so that the caller can tell a masked key from a logit
// that overflowed to -Inf.
func (p *plan) applyElementwise(s []float32, b, h, i, qp, k0, lo, hi int) (masked int) {
	sh := &p.sh
	o := &p.o
	var pad []bool
	if o.KeyPadding != nil {
		pad = o.KeyPadding[b*sh.SeqK : (b+1)*sh.SeqK]
	}
	var mask []bool
	if m := o.Mask; m != nil {
		base := ((b%m.Batch)*m.Heads+h%m.Heads)*sh.SeqQ + i
		mask = m.Data[base*sh.SeqK : (base+1)*sh.SeqK]
	}
	var bias []float32
	if bb := o.Bias; bb != nil {
		base := ((b%bb.Batch)*bb.Heads+h%bb.Heads)*sh.SeqQ + i
		bias = bb.Data[base*sh.SeqK : (base+1)*sh.SeqK]
	}
	var slope float32
	if o.ALiBi != nil {
		slope = o.ALiBi[h]
	}
	qGlobal := p.global != nil && p.isGlobal(qp)
	for j := lo; j < hi; j++ {
		x := &s[j-k0]
		switch {
		case pad != nil && pad[j], mask != nil && mask[j],
			p.global != nil && !qGlobal && !p.isGlobal(j) && !p.inWindow(qp, j),
			bias != nil && bias[j] == negInf:
			*x = negInf
			masked++
			continue
		}
		if bias != nil {
			*x += bias[j]
		}
		if slope != 0 {
			d := qp - j
			if d < 0 {
				d = -d
			}
			*x -= slope * float32(d)
		}
	}
	return masked
}
