package attention

import (
	"math"
	"sync"

	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/tensor"
)

// Tile sizes of the fused kernel: a work item is tileQ query rows of one
// (batch, head); keys stream through in blocks of tileK.
const (
	tileQ = 64
	tileK = 64
	// tiledMinRows is the fewest query rows an item runs through itemTiled
	// (its products work on 16 queries at a time; fewer go row by row, as a
	// decoding step's single query does).
	tiledMinRows = 2
	// rowWork weighs the multiply-adds of single-row calls for the pool's
	// serial threshold (see Attend).
	rowWork = 8
	// prefetchMinDim is the narrowest head whose next key and value tile is
	// prefetched (see prefetchKV).
	prefetchMinDim = 32
)

// Engine runs attention on a worker pool. It is safe for concurrent use.
type Engine struct {
	pool    *kernels.Pool
	scratch sync.Pool // *scratch
	calls   sync.Pool // *attendCall
}

// attendCall is what one Attend call keeps besides the workers' scratch.
type attendCall struct {
	p     plan
	parts []partial // (item) statistics partials; empty without statistics
	// The call's arguments, for item.
	q, out  []float32
	k, v    tensor.Store
	st      *Stats
	nQT, bh int // query tiles; batch·heads
}

// item runs work item t: query tile nQT−1−t%nQT of (batch, head) t/nQT.
// The items of one head follow each other, so its keys and values stay in
// the caches while the workers go through its query tiles, heaviest (the
// last queries under a causal mask) first. With statistics, an item that is
// its head's only one (one query tile) writes the head's statistics itself;
// otherwise it leaves its partial for Attend to sum.
func (c *attendCall) item(sc *scratch, t int) {
	sh := &c.p.sh
	hb := t / c.nQT // = b·heads + h
	qt := c.nQT - 1 - t%c.nQT
	b, h := hb/sh.Heads, hb%sh.Heads
	i0, i1 := qt*tileQ, min(qt*tileQ+tileQ, sh.SeqQ)
	st := c.st
	if st == nil {
		c.p.item(sc, c.q, c.k, c.v, c.out, nil, nil, b, h, i0, i1)
		return
	}
	var pt partial
	c.p.item(sc, c.q, c.k, c.v, c.out, st, &pt, b, h, i0, i1)
	if c.nQT > 1 {
		c.parts[t] = pt
		return
	}
	st.OutNorm[hb] = float32(math.Sqrt(pt.normSq))
	st.ScoreNaN[hb], st.ScoreInf[hb] = pt.scoreNaN, pt.scoreInf
	st.OutNaN[hb], st.OutInf[hb] = pt.outNaN, pt.outInf
}

// release drops the call's references to the caller's data before the
// call goes back to the pool.
func (c *attendCall) release() {
	c.q, c.out, c.k, c.v, c.st = nil, nil, tensor.Store{}, tensor.Store{}, nil
	c.p.o = Options{}
	c.p.global = nil
}

// NewEngine returns an engine that runs on pool (nil: on the caller only).
func NewEngine(pool *kernels.Pool) *Engine { return &Engine{pool: pool} }

// Pool is the worker pool the engine runs on (nil: the caller only).
func (e *Engine) Pool() *kernels.Pool { return e.pool }

// Threads is the number of workers the engine uses.
func (e *Engine) Threads() int {
	if e.pool == nil {
		return 1
	}
	return e.pool.Threads()
}

// scratch is one worker's private memory: O(tile), independent of sequence
// length.
type scratch struct {
	s      []float32 // (tileK) logits of one row against one key tile
	kt, vt []float32 // (tileK, headDim) widened K and V tiles (half-precision stores)
	m, l   []float32 // (tileQ) running max and Σexp(s-m) per row
	t      []float32 // (tileQ) running Σexp(s-m)·(s-m) per row (entropy)
	lo, hi []int     // (tileQ) allowed key range per row
	cnt    []int32   // (tileQ) keys attended per row
	bad    []bool    // (tileQ) row met a NaN/Inf logit

	// The tiled path (itemTiled); queries are columns, padded to whole
	// 16-wide register tiles.
	qt     []float32 // (headDim, tileQ) the item's queries transposed
	sT     []float32 // (tileK, tileQ) logits of a key tile against the queries, then their weights
	o      []float32 // (tileQ, headDim) output accumulators
	mx, ls []float32 // (tileQ) per column: the tile's max, Σ exp(s − m)
	ts     []float32 // (tileQ) per column: the tile's Σ exp(s − m)·(s − m)
	nk     []int32   // (tileQ) per column: the tile's keys that are not −Inf
	want   []int     // (tileQ) per column: the tile's keys the masks allow
}

func (e *Engine) getScratch(d int) *scratch {
	sc, _ := e.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	sc.s = grow(sc.s, tileK)
	sc.kt = grow(sc.kt, tileK*d)
	sc.vt = grow(sc.vt, tileK*d)
	sc.m = grow(sc.m, tileQ)
	sc.l = grow(sc.l, tileQ)
	sc.t = grow(sc.t, tileQ)
	sc.lo = grow(sc.lo, tileQ)
	sc.hi = grow(sc.hi, tileQ)
	sc.cnt = grow(sc.cnt, tileQ)
	sc.bad = grow(sc.bad, tileQ)
	if tiled(d) {
		sc.qt = grow(sc.qt, d*tileQ)
		sc.sT = grow(sc.sT, tileK*tileQ)
		sc.o = grow(sc.o, tileQ*d)
		sc.mx = grow(sc.mx, tileQ)
		sc.ls = grow(sc.ls, tileQ)
		sc.ts = grow(sc.ts, tileQ)
		sc.nk = grow(sc.nk, tileQ)
		sc.want = grow(sc.want, tileQ)
	}
	return sc
}

// partial holds one work item's share of the per-head statistics; they are
// summed in item order after the parallel pass, so results don't depend on
// the thread count.
type partial struct {
	normSq                             float64
	scoreNaN, scoreInf, outNaN, outInf int64
}

// Attend computes attention with the fused tiled online-softmax kernel and
// writes out (batch, seqQ, heads·headDim). k and v are (batch, seqK,
// kvHeads·headDim) in float32, float16 or bfloat16; arithmetic is float32.
// When st is non-nil it is filled with per-head statistics in the same pass.
// out must not overlap q, k or v.
func (e *Engine) Attend(sh Shape, o *Options, q []float32, k, v tensor.Store, out []float32, st *Stats) error {
	if out == nil {
		return shapeErr("out is nil")
	}
	// The call's plan and per-item partials come from a pool, so that a
	// small call (a decoding step) allocates nothing.
	c, _ := e.calls.Get().(*attendCall)
	if c == nil {
		c = new(attendCall)
	}
	defer e.calls.Put(c)
	p := &c.p
	if err := p.init(sh, o, q, k, v, out); err != nil {
		return err
	}
	sh = p.sh
	if st != nil {
		st.reset(sh)
	}
	if sh.SeqQ == 0 {
		return nil
	}
	nQT := (sh.SeqQ + tileQ - 1) / tileQ
	bh := sh.Batch * sh.Heads
	items := bh * nQT
	c.parts = c.parts[:0]
	if st != nil && nQT > 1 {
		c.parts = resize(c.parts, items) // every item writes its own
	}
	parts := c.parts
	c.q, c.k, c.v, c.out, c.st, c.nQT, c.bh = q, k, v, out, st, nQT, bh
	defer c.release()
	// Work in multiply-adds (QKᵀ and PV, masks ignored). A decoding step's
	// items (one query row: itemRows) stream their keys and values once, from
	// memory rather than cache, so their multiply-adds weigh rowWork times a
	// tile's (as kernels.MatMulPanels weighs its matrix–vector products):
	// the 768-wide model's 12 heads at 128 positions then split over the pool
	// instead of keeping its helper idle.
	work := 2 * int64(bh) * int64(sh.SeqQ) * int64(sh.SeqK) * int64(sh.HeadDim)
	if sh.SeqQ < tiledMinRows {
		work *= rowWork
	}
	pool := e.pool.For(work)
	if pool == nil {
		sc := e.getScratch(sh.HeadDim)
		for t := range items {
			c.item(sc, t)
		}
		e.scratch.Put(sc)
	} else {
		scr := make([]*scratch, pool.Threads())
		pool.Run(items, func(w, t int) {
			if scr[w] == nil {
				scr[w] = e.getScratch(sh.HeadDim)
			}
			c.item(scr[w], t)
		})
		for _, sc := range scr {
			if sc != nil {
				e.scratch.Put(sc)
			}
		}
	}
	if st != nil {
		// Heads of several query tiles: sum the partials in a fixed (query
		// tile) order.
		for hb := 0; hb < bh && nQT > 1; hb++ {
			var sum partial
			for qt := 0; qt < nQT; qt++ {
				pt := &parts[hb*nQT+nQT-1-qt]
				sum.normSq += pt.normSq
				sum.scoreNaN += pt.scoreNaN
				sum.scoreInf += pt.scoreInf
				sum.outNaN += pt.outNaN
				sum.outInf += pt.outInf
			}
			st.OutNorm[hb] = float32(math.Sqrt(sum.normSq))
			st.ScoreNaN[hb], st.ScoreInf[hb] = sum.scoreNaN, sum.scoreInf
			st.OutNaN[hb], st.OutInf[hb] = sum.outNaN, sum.outInf
		}
		st.finish()
	}
	return nil
}

// kvRows returns where key/value row j of (b, kvh) lives for j in [k0, k1):
// row j is data[off+j*stride : off+j*stride+headDim]. Half-precision stores
// are widened into buf, the whole tile in one call.
func (p *plan) kvRows(s tensor.Store, buf []float32, b, kvh, k0, k1 int) (data []float32, off, stride int) {
	d := p.sh.HeadDim
	base := p.kvOff(b, 0, kvh)
	if f := s.F32(); f != nil {
		return f, base, p.kvStride
	}
	s.GetRows(base+k0*p.kvStride, p.kvStride, k1-k0, d, buf[:(k1-k0)*d])
	return buf, -k0 * d, d
}

// prefetchKV asks the CPU for key and value rows [j0, j1) of (b, kvh)
// (float32 stores; a hint), for heads of at least prefetchMinDim: a
// narrower row's dot product and update cost about what its prefetch
// instruction does (stories260K's 8-wide heads spent 15 % of decoding on
// them, with a cache that stays in L2).
func (p *plan) prefetchKV(k, v tensor.Store, b, kvh, j0, j1 int) {
	if j0 >= j1 || p.sh.HeadDim < prefetchMinDim {
		return
	}
	base := p.kvOff(b, j0, kvh)
	if f := k.F32(); f != nil {
		kernels.PrefetchRows(f, base, p.kvStride, j1-j0, p.sh.HeadDim)
	}
	if f := v.F32(); f != nil {
		kernels.PrefetchRows(f, base, p.kvStride, j1-j0, p.sh.HeadDim)
	}
}

// tiled reports whether heads of dimension d go through itemTiled.
func tiled(d int) bool { return d >= 16 && d%16 == 0 }

// item runs query rows [i0, i1) of batch b, head h: through itemTiled for
// head dimensions that are multiples of 16 and at least tiledMinRows rows,
// else row by row (itemRows).
func (p *plan) item(sc *scratch, q []float32, k, v tensor.Store, out []float32, st *Stats, pt *partial, b, h, i0, i1 int) {
	if tiled(p.sh.HeadDim) && i1-i0 >= tiledMinRows {
		p.itemTiled(sc, q, k, v, out, st, pt, b, h, i0, i1)
		return
	}
	p.itemRows(sc, q, k, v, out, st, pt, b, h, i0, i1)
}

// itemRows runs query rows [i0, i1) of batch b, head h one row at a time.
func (p *plan) itemRows(sc *scratch, q []float32, k, v tensor.Store, out []float32, st *Stats, pt *partial, b, h, i0, i1 int) {
	sh := &p.sh
	d := sh.HeadDim
	kvh := h / p.group
	rows := i1 - i0
	rowOf := func(x []float32, i int) []float32 {
		off := (b*sh.SeqQ+i)*p.qStride + h*d
		return x[off : off+d : off+d]
	}
	for i := i0; i < i1; i++ {
		clear(rowOf(out, i))
	}
	if !p.o.headOn(h) {
		st.zeroRows(b, h, i0, i1)
		return
	}
	withStats := st != nil
	var ebuf [tileK]float32 // exp(s − m) of one tile row
	l, bad := sc.l[:rows], sc.bad[:rows]
	klo, khi := p.initRows(sc, b, i0, rows)
	for k0 := klo; k0 < khi; k0 += tileK {
		k1 := min(k0+tileK, khi)
		kd, koff, kst := p.kvRows(k, sc.kt, b, kvh, k0, k1)
		vd, voff, vst := p.kvRows(v, sc.vt, b, kvh, k0, k1)
		p.prefetchKV(k, v, b, kvh, k1, min(k1+tileK, khi)) // the next tile
		for r := 0; r < rows; r++ {
			lo, hi := max(sc.lo[r], k0), min(sc.hi[r], k1)
			if lo >= hi {
				continue
			}
			i := i0 + r
			s := sc.s[:k1-k0]
			kernels.DotRows(s[lo-k0:hi-k0], p.scale, rowOf(q, i), kd, koff+lo*kst, kst)
			acc := rowOf(out, i)
			ew := ebuf[:hi-lo]
			if p.rowStep(sc, r, s, ew, acc, b, h, i, k0, lo, hi, withStats) {
				kernels.AxpyRows(acc, ew, vd, voff+lo*vst, vst) // keys of weight 0 are skipped
			}
		}
	}
	if !withStats {
		// Normalise each row.
		for r := 0; r < rows; r++ {
			if l[r] > 0 || l[r] != l[r] || bad[r] {
				kernels.Scale(1/l[r], rowOf(out, i0+r))
			}
		}
		return
	}
	// Normalise each row and take its statistics: setRow, the sum of squares
	// of the normalised row (in the same pass), the NaN/Inf counts.
	t, cnt := sc.t[:rows], sc.cnt[:rows]
	for r := 0; r < rows; r++ {
		i := i0 + r
		acc := rowOf(out, i)
		var ss float64
		if l[r] > 0 || l[r] != l[r] || bad[r] {
			ss = kernels.ScaleSumSquares(1/l[r], acc)
		} else {
			ss = kernels.SumSquares(acc)
		}
		st.setRow(b, h, i, cnt[r], l[r], t[r], l[r] > 0 && !bad[r])
		if bad[r] || !finite(l[r]) || !finite(t[r]) {
			p.countBadLogits(sc, q, k, b, h, i, kvh, pt)
		}
		if !(ss <= math.MaxFloat64) { // NaN or +Inf (ss ≥ 0)
			ss = 0
			for _, x := range acc {
				switch {
				case x != x:
					pt.outNaN++
				case math.IsInf(float64(x), 0):
					pt.outInf++
				default:
					ss += float64(x) * float64(x)
				}
			}
		}
		pt.normSq += ss
	}
}

// finite reports whether x is neither NaN nor ±Inf (x − x is NaN for those,
// 0 otherwise).
func finite(x float32) bool { return x-x == 0 }

// countBadLogits recomputes the logits of one row that met a NaN or Inf and
// counts them. It runs only on that rare path, so the normal pass pays
// nothing for the counts.
func (p *plan) countBadLogits(sc *scratch, q []float32, k tensor.Store, b, h, i, kvh int, pt *partial) {
	sh := &p.sh
	d := sh.HeadDim
	qp := p.o.qOffset(b) + i
	off := (b*sh.SeqQ+i)*p.qStride + h*d
	qrow := q[off : off+d]
	lo, hi := p.keyRange(b, qp)
	for k0 := lo; k0 < hi; k0 += tileK {
		k1 := min(k0+tileK, hi)
		kd, koff, kst := p.kvRows(k, sc.kt, b, kvh, k0, k1)
		s := sc.s[:k1-k0]
		for j := k0; j < k1; j++ {
			x := p.scale * kernels.Dot(qrow, kd[koff+j*kst:koff+j*kst+d])
			// A raw logit that is already non-finite is counted here; the
			// mask pass below must not count it twice.
			switch {
			case x != x:
				pt.scoreNaN++
				x = 0
			case math.IsInf(float64(x), 0):
				pt.scoreInf++
				x = 0
			}
			s[j-k0] = x
		}
		if p.elementwise {
			p.applyElementwise(s, b, h, i, qp, k0, k0, k1)
		}
		for _, x := range s {
			switch {
			case x != x:
				pt.scoreNaN++
			case math.IsInf(float64(x), 1):
				pt.scoreInf++
			}
		}
	}
}
