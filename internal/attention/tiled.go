package attention

import (
	"math"

	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

// itemTiled runs query rows [i0, i1) of batch b, head h a key tile at a
// time. The logits of a key tile are stored (keys, queries) — each query a
// column — so that the key rows are read as they lie (no key tile is ever
// transposed; the item's queries are, once) and the online softmax runs 8
// queries per vector, down their columns:
//
//  1. Sᵀ = scale·K·Qᵀ for the columns that see the tile (kernels.MatMulRows:
//     each logit one float32 FMA chain over the head dimension);
//  2. masks: keys outside a query's range become −Inf in its column; the
//     elementwise masks and biases go through applyElementwise on a copy;
//  3. each column's max and key count (kernels.ColMaxCount), folded into the
//     row's running state by fold (which rescales the row's output when its
//     max rises), then the weights exp(s − m) in place with each column's
//     sum and entropy term (kernels.ColExpShiftSum); a row the tile gives no
//     weight gets a zero column;
//  4. O += P·V (kernels.MatMulTAddRows, P stored (keys, queries)).
//
// Weights outside a row's allowed keys are exactly 0. itemRows skips keys of
// weight 0, so a masked key whose value is Inf or NaN adds nothing there,
// whereas here it adds 0·Inf = NaN. Every such case leaves a non-finite
// output row, and every row whose output is not finite is recomputed by
// itemRows, so results (and statistics) keep itemRows' semantics; finite rows
// pay one sum of squares for the check. (A redone row is summed in itemRows'
// order, so it may differ in the last bits from the same row computed here.)
//
// Summation orders: logit = scale·(Σ_p q_p·k_p, p increasing, one FMA each);
// output = Σ over key tiles in increasing order of (the tile's Σ_j w_j·v_j,
// j increasing, one FMA each, from 0), each tile's sum added once after the
// rescale by exp(m_old − m_new); l and t per tile as Σ_j with j increasing,
// added to the row's running values. They depend only on the item (its
// query rows and the key tiles, fixed by the shape), never on the thread
// count or on the other rows of the item.
func (p *plan) itemTiled(sc *scratch, q []float32, k, v tensor.Store, out []float32, st *Stats, pt *partial, b, h, i0, i1 int) {
	sh := &p.sh
	d := sh.HeadDim
	kvh := h / p.group
	rows := i1 - i0
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
	qp := (rows + 15) &^ 15 // query columns: whole 16-wide register tiles
	qT, o, sT := sc.qt[:d*tileQ], sc.o[:qp*d], sc.sT[:tileK*tileQ]
	// Qᵀ (headDim, tileQ): column r is query i0+r; columns rows…qp−1 zero.
	kernels.Transpose(qT, tileQ, q[(b*sh.SeqQ+i0)*p.qStride+h*d:], p.qStride, rows, d)
	for x := range d {
		clear(qT[x*tileQ+rows : x*tileQ+qp])
	}
	clear(o)
	l, t := sc.l[:rows], sc.t[:rows]
	cnt, bad := sc.cnt[:rows], sc.bad[:rows]
	mx, nk, ls, ts, want := sc.mx, sc.nk, sc.ls, sc.ts, sc.want
	klo, khi := p.initRows(sc, b, i0, rows)
	for r := rows; r < qp; r++ {
		sc.m[r] = 0 // padding columns: any finite shift will do
	}
	var ok [tileQ]bool
	for k0 := klo; k0 < khi; k0 += tileK {
		k1 := min(k0+tileK, khi)
		kn := k1 - k0
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
		// Only the columns (whole 16-wide tiles) of rows that see a key of
		// this tile (causal and window masks leave the others out).
		c0, c1 := rows, 0
		for r := 0; r < rows; r++ {
			if max(sc.lo[r], k0) < min(sc.hi[r], k1) {
				c0, c1 = min(c0, r), r+1
			}
		}
		if c0 >= c1 {
			continue
		}
		c0 &^= 15
		c1 = min(qp, (c1+15)&^15)
		nc, r1 := c1-c0, min(c1, rows)
		s := sT[c0:] // (kn, nc) with row stride tileQ
		kernels.MatMulRows(s, tileQ, kd[koff+k0*kst:], kst, qT[c0:], tileQ, kn, nc, d, p.scale)
		for r := c0; r < r1; r++ {
			lo, hi := max(sc.lo[r], k0), min(sc.hi[r], k1)
			if lo >= hi {
				lo, hi = k1, k1
			}
			for j := k0; j < lo; j++ {
				sT[(j-k0)*tileQ+r] = negInf
			}
			for j := hi; j < k1; j++ {
				sT[(j-k0)*tileQ+r] = negInf
			}
			want[r] = hi - lo
			if p.elementwise && lo < hi {
				col := sc.s[:kn]
				for j := lo; j < hi; j++ {
					col[j-k0] = sT[(j-k0)*tileQ+r]
				}
				want[r] -= p.applyElementwise(col, b, h, i0+r, p.o.qOffset(b)+i0+r, k0, lo, hi)
				for j := lo; j < hi; j++ {
					sT[(j-k0)*tileQ+r] = col[j-k0]
				}
			}
		}
		kernels.ColMaxCount(mx[c0:c1], nk[c0:c1], s, tileQ, kn, nc) // NaN never wins the max
		for r := c0; r < r1; r++ {
			ok[r] = sc.fold(r, mx[r], int(nk[r]), want[r], o[r*d:(r+1)*d], withStats)
		}
		var tc []float32
		if withStats {
			tc = ts[c0:c1]
		}
		kernels.ColExpShiftSum(s, tileQ, s, tileQ, kn, nc, sc.m[c0:c1], ls[c0:c1], tc)
		for r := c0; r < r1; r++ {
			if !ok[r] { // the tile gives the row no weight
				for j := range kn {
					sT[j*tileQ+r] = 0
				}
				continue
			}
			l[r] += ls[r]
			if withStats {
				t[r] += ts[r]
			}
		}
		kernels.MatMulTAddRows(o[c0*d:], d, s, tileQ, vd[voff+k0*vst:], vst, nc, d, kn)
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
