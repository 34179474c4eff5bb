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
//  1. Sᵀ = scale·K·Qᵀ (kernels.MatMulRows: each logit one float32 FMA chain
//     over the head dimension), by groups of 16 columns over the keys of the
//     tile that some row of the group sees (tileColumns: on the causal
//     diagonal the earlier groups stop earlier; groups that see no key are
//     left out);
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
		st.zeroRows(b, h, i0, i1)
		return
	}
	withStats := st != nil
	qp := (rows + 15) &^ 15 // query columns: whole 16-wide register tiles
	qT, o := sc.qt[:d*tileQ], sc.o[:qp*d]
	// Qᵀ (headDim, tileQ): column r is query i0+r; columns rows…qp−1 zero.
	kernels.Transpose(qT, tileQ, q[(b*sh.SeqQ+i0)*p.qStride+h*d:], p.qStride, rows, d)
	for x := range d {
		clear(qT[x*tileQ+rows : x*tileQ+qp])
	}
	clear(o)
	l, t := sc.l[:rows], sc.t[:rows]
	cnt, bad := sc.cnt[:rows], sc.bad[:rows]
	klo, khi := p.initRows(sc, b, i0, rows)
	for r := rows; r < qp; r++ {
		sc.m[r] = 0 // padding columns: any finite shift will do
	}
	for k0 := klo; k0 < khi; k0 += tileK {
		k1 := min(k0+tileK, khi)
		kd, koff, kst := p.kvRows(k, sc.kt, b, kvh, k0, k1)
		vd, voff, vst := p.kvRows(v, sc.vt, b, kvh, k0, k1)
		p.prefetchKV(k, v, b, kvh, k1, min(k1+tileK, khi)) // the next tile
		// Column groups (16 queries, a register tile wide) run in segments of
		// groups that see the same keys [k0, k0+kn) of the tile (the causal
		// diagonal tile: fewer keys for the earlier groups); groups whose
		// rows see no key of the tile are left out.
		for g0 := 0; g0 < qp; {
			kn := p.groupKeys(sc, g0, rows, k0, k1)
			g1 := g0 + 16
			for g1 < qp && p.groupKeys(sc, g1, rows, k0, k1) == kn {
				g1 += 16
			}
			if kn > 0 {
				p.tileColumns(sc, kd[koff+k0*kst:], kst, vd[voff+k0*vst:], vst, o, b, h, i0, rows, g0, g1, k0, kn, withStats)
			}
			g0 = g1
		}
	}
	// Normalise each row, store it and take its statistics; rows whose output
	// is not finite are redone by itemRows below.
	var redo [tileQ]bool
	var inv [tileQ]float32
	var sumSq [tileQ]float64
	for r := 0; r < rows; r++ {
		inv[r] = 1 // a row without weight keeps its zeros
		if l[r] > 0 || l[r] != l[r] || bad[r] {
			inv[r] = 1 / l[r]
		}
	}
	kernels.ScaleSumSquaresRows(inv[:rows], o, d, rows, d, sumSq[:rows])
	for r := 0; r < rows; r++ {
		i := i0 + r
		acc := o[r*d : (r+1)*d]
		ss := sumSq[r]
		if math.IsNaN(ss) || math.IsInf(ss, 0) {
			redo[r] = true
			continue
		}
		copy(rowOf(out, i), acc)
		if !withStats {
			continue
		}
		st.setRow(b, h, i, cnt[r], l[r], t[r], l[r] > 0 && !bad[r])
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

// groupKeys is how many keys of the tile [k0, k1) the rows of the 16-column
// group that starts at column g0 need: up to the last key any of them sees,
// 0 when none sees one.
func (p *plan) groupKeys(sc *scratch, g0, rows, k0, k1 int) int {
	n := 0
	for r := g0; r < min(g0+16, rows); r++ {
		if lo, hi := max(sc.lo[r], k0), min(sc.hi[r], k1); lo < hi {
			n = max(n, hi-k0)
		}
	}
	return n
}

// tileColumns runs steps 1–4 of itemTiled for the query columns [g0, g1)
// (whole 16-wide groups) and the first kn keys of the tile that starts at
// key k0; kt and vt are the tile's key and value rows (row strides kst, vst).
func (p *plan) tileColumns(sc *scratch, kt []float32, kst int, vt []float32, vst int, o []float32, b, h, i0, rows, g0, g1, k0, kn int, withStats bool) {
	d := p.sh.HeadDim
	sT := sc.sT[:tileK*tileQ]
	s := sT[g0:] // (kn, nc) with row stride tileQ
	nc, r1, k1 := g1-g0, min(g1, rows), k0+kn
	// The softmax runs on whole 8-lane vectors of real rows, the product
	// with V on the real rows only (the padding columns only fill the
	// register tiles of Sᵀ).
	n8 := (r1 - g0 + 7) &^ 7
	kernels.MatMulRows(s, tileQ, kt, kst, sc.qt[g0:], tileQ, kn, nc, d, p.scale)
	for r := g0; r < r1; r++ {
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
		sc.want[r] = hi - lo
		if p.elementwise && lo < hi {
			col := sc.s[:kn]
			for j := lo; j < hi; j++ {
				col[j-k0] = sT[(j-k0)*tileQ+r]
			}
			sc.want[r] -= p.applyElementwise(col, b, h, i0+r, p.o.qOffset(b)+i0+r, k0, lo, hi)
			for j := lo; j < hi; j++ {
				sT[(j-k0)*tileQ+r] = col[j-k0]
			}
		}
	}
	kernels.ColMaxCount(sc.mx[g0:g0+n8], sc.nk[g0:g0+n8], s, tileQ, kn, n8) // NaN never wins the max
	var ok [tileQ]bool
	for r := g0; r < r1; r++ {
		ok[r] = sc.fold(r, sc.mx[r], int(sc.nk[r]), sc.want[r], o[r*d:(r+1)*d], withStats)
	}
	var tc []float32
	if withStats {
		tc = sc.ts[g0 : g0+n8]
	}
	kernels.ColExpShiftSum(s, tileQ, s, tileQ, kn, n8, sc.m[g0:g0+n8], sc.ls[g0:g0+n8], tc)
	for r := g0; r < r1; r++ {
		if !ok[r] { // the tile gives the row no weight
			for j := range kn {
				sT[j*tileQ+r] = 0
			}
			continue
		}
		sc.l[r] += sc.ls[r]
		if withStats {
			sc.t[r] += sc.ts[r]
		}
	}
	kernels.MatMulTAddRows(o[g0*d:], d, s, tileQ, vt, vst, r1-g0, d, kn)
}
