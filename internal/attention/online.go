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
// the tile that starts at key k0, folds them into the row's running state
// (fold) and writes the weights exp(s − m) — exactly 0 for masked keys — to w
// (len hi−lo). It returns false when the tile gives the row no weight; w is
// then untouched.
func (p *plan) rowStep(sc *scratch, r int, s, w, acc []float32, b, h, i, k0, lo, hi int, withStats bool) bool {
	masked := 0
	if p.elementwise {
		masked = p.applyElementwise(s, b, h, i, p.o.qOffset(b)+i, k0, lo, hi)
	}
	row := s[lo-k0 : hi-k0]
	mt, n := kernels.MaxCount(row) // NaN never wins the max
	if !sc.fold(r, mt, n, hi-lo-masked, acc, withStats) {
		return false
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

// fold folds one key tile into row r's running max m, sum l, entropy term t,
// key count and NaN flag: mt is the largest non-NaN logit of the tile's keys
// (−Inf if none), n the number of them that are not −Inf, want the number the
// masks allow (n < want: a logit overflowed to −Inf). When the max rises it
// rescales l, t and the row's output accumulator acc by exp(m_old − m_new).
// It returns false when the tile gives the row no weight (no key, or only
// NaN); the row's state is then unchanged but for the count and flag.
func (sc *scratch) fold(r int, mt float32, n, want int, acc []float32, withStats bool) bool {
	if n != want {
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
		if sc.l[r] != 0 { // l = 0: acc holds zeros (or NaN from 0·Inf), which alpha would keep
			kernels.Scale(alpha, acc)
		}
		sc.l[r] *= alpha
		sc.m[r] = mt
	}
	return true
}
