package attention

import (
	"math"

	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

// itemTiled runs query rows [i0, i1) of batch b, head h a tile at a time:
// for each key tile, the logits of all the item's rows come from one
// register-blocked product (kernels.MatMulRows: S = scale·Q·Kᵀ, each logit one
// float32 FMA chain over the head dimension), the online softmax runs row by
// row exactly as in itemRows (masks, running max, ExpShiftSumT with the
// entropy term), and the weights of all rows meet the value tile in one
// product (kernels.MatMulAddRows: O += P·V, each output element's tile sum
// starts from 0 and is added to the accumulator once per key tile). Weights
// outside a row's allowed keys are exactly 0.
//
// itemRows skips keys of weight 0, so a masked key whose value is Inf or NaN
// adds nothing there, whereas here it adds 0·Inf = NaN. Every such case leaves
// a non-finite output row, and every row whose output is not finite is
// recomputed by itemRows, so results (and statistics) keep itemRows'
// semantics; finite rows pay one sum of squares for the check. (A redone
// row is summed in itemRows' order, so it may differ in the last bits from
// the same row computed here.)
//
// Summation orders: logit = scale·(Σ_p q_p·k_p, p increasing, one FMA each);
// output = Σ over key tiles in increasing order of (the tile's Σ_j w_j·v_j,
// j increasing, one FMA each, from 0), each tile's sum added once after the
// rescale by exp(m_old − m_new); l and t per tile as ExpShiftSumT sums them.
// They depend only on the item (64 query rows, fixed by the shape), never on
// the thread count.
func (p *plan) itemTiled(sc *scratch, q []float32, k, v tensor.Store, out []float32, st *Stats, pt *partial, b, h, i0, i1 int) {
	sh := &p.sh
	d := sh.HeadDim
	kvh := h / p.group
	rows := i1 - i0
	rp := (rows + kernels.MMRows - 1) / kernels.MMRows * kernels.MMRows // whole register tiles
	rowOf := func(x []float32, i int) []float32 {
		off := (b*sh.SeqQ+i)*p.qStride + h*d
		return x[off : off+d : off+d]
	}
	if !p.o.headOn(h) {
		for i := i0; i < i1; i++ {
			clear(rowOf(out, i))
		}
		return
	}
	withStats := st != nil
	qt, o := sc.qt[:rp*d], sc.o[:rp*d]
	for r := 0; r < rows; r++ {
		copy(qt[r*d:(r+1)*d], rowOf(q, i0+r))
	}
	clear(qt[rows*d:])
	clear(o)
	pw, sT, ktT := sc.pT[:rp*tileK], sc.sT[:rp*tileK], sc.ktT[:d*tileK]
	clear(pw) // padding rows stay 0
	l, t := sc.l[:rows], sc.t[:rows]
	cnt, bad := sc.cnt[:rows], sc.bad[:rows]
	klo, khi := p.initRows(sc, b, i0, rows)
	for k0 := klo; k0 < khi; k0 += tileK {
		k1 := min(k0+tileK, khi)
		kn := k1 - k0
		knp := (kn + 15) &^ 15
		kd, koff, kst := p.kvRows(k, sc.kt, b, kvh, k0, k1)
		vd, voff, vst := p.kvRows(v, sc.vt, b, kvh, k0, k1)
		if n1 := min(k1+tileK, khi); k1 < n1 { // ask for the next tiles early
			base := p.kvOff(b, 0, kvh) + k1*p.kvStride
			if f := k.F32(); f != nil {
				kernels.PrefetchRows(f, base, p.kvStride, n1-k1, d)
			}
			if f := v.F32(); f != nil {
				kernels.PrefetchRows(f, base, p.kvStride, n1-k1, d)
			}
		}
		// Kᵀ of the tile, (d, tileK), columns kn…knp−1 zero.
		kernels.Transpose(ktT, tileK, kd[koff+k0*kst:], kst, kn, d)
		if kn < knp {
			for x := 0; x < d; x++ {
				clear(ktT[x*tileK+kn : x*tileK+knp])
			}
		}
		// Only the register tiles of rows that see a key of this tile
		// (causal and window masks leave the others out).
		r0, r1 := rows, 0
		for r := 0; r < rows; r++ {
			if max(sc.lo[r], k0) < min(sc.hi[r], k1) {
				r0, r1 = min(r0, r), r+1
			}
		}
		if r0 >= r1 {
			continue
		}
		r0 -= r0 % kernels.MMRows
		r1 = min(rp, (r1+kernels.MMRows-1)/kernels.MMRows*kernels.MMRows)
		kernels.MatMulRows(sT[r0*tileK:], tileK, qt[r0*d:], d, ktT, tileK, r1-r0, knp, d, p.scale)
		for r := 0; r < rows; r++ {
			prow := pw[r*tileK : r*tileK+kn]
			lo, hi := max(sc.lo[r], k0), min(sc.hi[r], k1)
			if lo >= hi {
				clear(prow)
				continue
			}
			s := sT[r*tileK : r*tileK+kn]
			clear(prow[:lo-k0])
			clear(prow[hi-k0:])
			if !p.rowStep(sc, r, s, prow[lo-k0:hi-k0], o[r*d:(r+1)*d], b, h, i0+r, k0, lo, hi, withStats) {
				clear(prow)
			}
		}
		kernels.MatMulAddRows(o[r0*d:], d, pw[r0*tileK:], tileK, vd[voff+k0*vst:], vst, r1-r0, d, kn)
	}
	// Normalise each row, store it and take its statistics; rows whose output
	// is not finite are redone by itemRows below.
	var redo [tileQ]bool
	for r := 0; r < rows; r++ {
		i := i0 + r
		acc := o[r*d : (r+1)*d]
		if l[r] > 0 || l[r] != l[r] || bad[r] {
			kernels.Scale(1/l[r], acc)
		}
		ss := kernels.SumSquares(acc)
		if math.IsNaN(ss) || math.IsInf(ss, 0) {
			redo[r] = true
			continue
		}
		copy(rowOf(out, i), acc)
		if !withStats {
			continue
		}
		ri := (b*sh.Heads+h)*sh.SeqQ + i
		st.Attended[ri] = cnt[r]
		if l[r] > 0 && !bad[r] {
			inv := 1 / l[r]
			st.MaxWeight[ri] = inv
			st.Entropy[ri] = max(0, float32(math.Log(float64(l[r])))-t[r]*inv)
		}
		if bad[r] || !finite(l[r]) || !finite(t[r]) {
			p.countBadLogits(sc, q, k, b, h, i, kvh, pt)
		}
		pt.normSq += ss
	}
	for r := 0; r < rows; r++ {
		if redo[r] {
			p.itemRows(sc, q, k, v, out, st, pt, b, h, i0+r, i0+r+1)
		}
	}
}
