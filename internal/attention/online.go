package attention

import "github.com/headlight/headlight/internal/kernels"

// initRows resets the running softmax state of query rows [i0, i0+rows) of
// sequence b and sets each row's allowed key range; it returns the union
// [klo, khi) of those ranges (empty when klo ≥ khi).
func (p *plan) initRows(sc *scratch, b, i0, rows int) (klo, khi int) {
	qoff := p.o.qOffset(b)
	klo, khi = p.sh.SeqK, 0
	for r := 0; r < rows; r++ {
		sc.m[r], sc.l[r], sc.t[r], sc.cnt[r], sc.bad[r] = negInf, 0, 0, 0, false
		sc.lo[r], sc.hi[r] = p.keyRange(b, qoff+i0+r)
		if sc.lo[r] < sc.hi[r] {
			klo, khi = min(klo, sc.lo[r]), max(khi, sc.hi[r])
		}
	}
	return klo, khi
}

// rowStep is one step of the online softmax for row r (query i of batch b,
// head h): it applies the masks to the row's logits s over keys [lo, hi) of
// the tile that starts at key k0, folds them into the row's running max m,
// sum l, entropy term t, key count and NaN flag, rescales the row's output
// accumulator acc when the max rises, and writes the weights exp(s − m) —
// exactly 0 for masked keys — to w (len hi−lo). It returns false when the
// tile gives the row no weight; w is then untouched.
func (p *plan) rowStep(sc *scratch, r int, s, w, acc []float32, b, h, i, k0, lo, hi int, withStats bool) bool {
	masked := 0
	if p.elementwise {
		masked = p.applyElementwise(s, b, h, i, p.o.qOffset(b)+i, k0, lo, hi)
	}
	row := s[lo-k0 : hi-k0]
	mt, n := kernels.MaxCount(row) // NaN never wins the max
	if n != hi-lo-masked {
		sc.bad[r] = true // a logit overflowed to -Inf
	}
	if n == 0 {
		return false
	}
	sc.cnt[r] += int32(n)
	if mt == negInf { // every allowed logit is NaN
		sc.bad[r] = true
		return false
	}
	if mt > sc.m[r] { // new running max: rescale what we have
		alpha := kernels.Exp(sc.m[r] - mt)
		if withStats && sc.l[r] > 0 {
			sc.t[r] = alpha * (sc.t[r] + (sc.m[r]-mt)*sc.l[r])
		}
		sc.l[r] *= alpha
		kernels.Scale(alpha, acc)
		sc.m[r] = mt
	}
	// The weights in one vector pass, with the entropy term Σ e·(s−m) in the
	// same pass when statistics are on.
	var ls, ts float32
	if withStats {
		ls, ts = kernels.ExpShiftSumT(w, row, sc.m[r])
	} else {
		ls = kernels.ExpShiftSum(w, row, sc.m[r])
	}
	sc.l[r] += ls
	sc.t[r] += ts
	return true
}
