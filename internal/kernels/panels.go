package kernels

import (
	"fmt"
	"sync"
)

// Panels is a weight matrix b (n, k) packed once for MatMulPanels: panel q
// holds rows 16q…16q+15 of b transposed, (k, 16) row-major, so element
// (j, p) of b is at data[(j/16)*16*k + p*16 + j%16]; the rows of the last
// panel past n are zero.
//
// Why a packed copy: the products of a transformer multiply activations by
// the same weights again and again. In this layout one row of a times a
// panel is an outer product (one broadcast of a[p], two loads of 16 weights,
// 16 multiply-adds per row of the tile): with its data in L1 it runs at
// ≈ 96 % of a core's FMA peak where the dot-product tiles of MatMulTransB
// (which must read b's rows as they are) stop at 75–85 %, and the
// matrix–vector product of decoding reads each panel as one sequential
// stream (docs/performance.md, "Packed weights").
type Panels struct {
	N, K  int
	data  []float32 // (⌈N/16⌉, K, 16), or nil when the panels are half precision
	hdata []uint16  // the same layout in half precision (PackPanelsHalf), or nil
	half  Half      // the format of hdata
	dot   bool      // bfloat16 dot mode (SetBF16Dot)
	// prefetch: the matrix–vector kernels prefetch ahead of each panel
	// (the gemvPanels*PFAVX2 kernels), set at packing for weights of at
	// least prefetchBytes.
	prefetch bool
}

// prefetchBytes is the size from which a packed matrix's matrix–vector
// products prefetch ahead (asm/panels.go, gemvPrefetch): larger weights
// stream from memory, smaller ones (stories260K's, 44 KiB at most) stay in
// the caches, where the hints only cost.
const prefetchBytes = 1 << 20

// panelW is the width of a panel: the columns of one 6×16 register tile.
const panelW = 16

// PackPanels packs b (n, k), row-major, into a new Panels.
func PackPanels(b []float32, n, k int) *Panels {
	w := new(Panels)
	w.Pack(nil, b, n, k)
	return w
}

// Pack repacks w to hold b (n, k), row-major, in float32, reusing w's
// memory when it is large enough (a product that packs its b on every call
// allocates once); the panels are split over pool (nil: the caller).
func (w *Panels) Pack(pool *Pool, b []float32, n, k int) {
	np := checkPack("PackPanels", b, n, k)
	size := np * panelW * k
	if cap(w.data) < size {
		w.data = make([]float32, size)
	}
	w.N, w.K, w.data, w.hdata = n, k, w.data[:size], nil
	w.prefetch = 4*size >= prefetchBytes
	pack := func(_, q int) { // panel q = rows 16q… of b, transposed
		rows := min(panelW, n-q*panelW)
		dst := w.data[q*panelW*k : (q+1)*panelW*k]
		if rows < panelW {
			clear(dst) // the rows past n
		}
		Transpose(dst, panelW, b[q*panelW*k:], k, rows, k)
	}
	pool.For(int64(n)*int64(k)).Run(np, pack)
}

// PackPanelsHalf packs b (n, k), row-major float32, into new panels of the
// half-precision format h, each value rounded to nearest even (as
// F32ToBF16 and F32ToF16 round): half the bytes of float32 panels, and
// MatMulPanels gives exactly the float32 product of the rounded weights.
func PackPanelsHalf(b []float32, h Half, n, k int) *Panels {
	np := checkPack("PackPanelsHalf", b, n, k)
	w := &Panels{N: n, K: k, hdata: make([]uint16, np*panelW*k), half: h}
	w.prefetch = 2*len(w.hdata) >= prefetchBytes
	round := F32ToF16
	if h == BF16 {
		round = F32ToBF16
	}
	t := make([]float32, panelW*k) // one panel transposed in float32
	for q := 0; q < np; q++ {
		rows := min(panelW, n-q*panelW)
		clear(t)
		Transpose(t, panelW, b[q*panelW*k:], k, rows, k)
		for i, v := range t {
			w.hdata[q*panelW*k+i] = round(v)
		}
	}
	return w
}

// checkPack panics unless b holds an (n, k) matrix; it returns the number
// of panels.
func checkPack(name string, b []float32, n, k int) int {
	if n < 0 || k < 0 || !fits(len(b), n, k) {
		panic(fmt.Sprintf("kernels.%s: n=%d k=%d len(b)=%d", name, n, k, len(b)))
	}
	return (n + panelW - 1) / panelW
}

// Half reports the panels' half-precision format (ok false: float32).
func (w *Panels) Half() (h Half, ok bool) { return w.half, w.hdata != nil }

// index is the position in data of element i of b in row-major order.
func (w *Panels) index(i int) int {
	if i < 0 || i >= w.N*w.K {
		panic(fmt.Sprintf("kernels.Panels: element %d of a (%d, %d) matrix", i, w.N, w.K))
	}
	j, p := i/w.K, i%w.K
	return (j/panelW)*panelW*w.K + p*panelW + j%panelW
}

// At returns element i of b in row-major order (b[i], i = j*k + p),
// widened from half precision when the panels are.
func (w *Panels) At(i int) float32 {
	x := w.index(i)
	if w.hdata == nil {
		return w.data[x]
	}
	if w.half == BF16 {
		return BF16ToF32(w.hdata[x])
	}
	return F16ToF32(w.hdata[x])
}

// SetAt sets element i of b in row-major order (rounded to nearest even
// when the panels are half precision).
func (w *Panels) SetAt(i int, v float32) {
	x := w.index(i)
	switch {
	case w.hdata == nil:
		w.data[x] = v
	case w.half == BF16:
		w.hdata[x] = F32ToBF16(v)
	default:
		w.hdata[x] = F32ToF16(v)
	}
}

// MatMulPanels computes c = a·bᵀ + bias for b packed in w (n = w.N,
// k = w.K): MatMulTransB's product (in another order than MatMulTransB's
// AVX2 path), with one sum per element in the reference loop's order:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += a[i*k+p] * b[j*k+p] // one FMA on the AVX2 path
//			}
//			c[i*n+j] = s + bias[j] // or s when bias is nil
//		}
//	}
//
// a is (m, k), c is (m, n), bias nil or (n). On the AVX2 path every product
// is added with one FMA (one rounding); the pure-Go twin rounds the product
// and the sum apart, as MatMulTransB's does. Either way an element's bits
// depend neither on the pool nor on m (a row gives the same result alone as
// in a batch), nor on its position: m ≤ panelGemvMaxM runs the
// matrix–vector kernels gemvPanels*AVX2 row by row, larger m the 6×16 tiles
// (AVX2) or the 12×32 tiles over two panels (AVX-512), all in that one order.
// Bfloat16 panels in the dot mode (SetBF16Dot) compute products of more than
// panelGemvMaxM rows differently: see bf16dot.go.
func MatMulPanels(pool *Pool, c, a []float32, w *Panels, bias []float32, m int) {
	n, k := w.N, w.K
	checkMatMul("MatMulPanels", len(a), n*k, len(c), bias, m, n, k) // b's length is its shape
	if m == 0 || n == 0 {
		return
	}
	a, c = a[:m*k], c[:m*n]
	if bias != nil {
		bias = bias[:n]
	}
	np := (n + panelW - 1) / panelW
	mb := (m + panelMC - 1) / panelMC
	nb := (np + panelNP - 1) / panelNP
	work := int64(m) * int64(n) * int64(k)
	if m <= panelGemvMaxM {
		work *= panelGemvWork
	}
	var ab []uint16 // a in bfloat16, (m, k), for the dot mode
	if w.dot && m > panelGemvMaxM {
		buf := bf16Copy(a, m, k)
		defer bf16Bufs.Put(buf)
		ab = *buf
		work /= 2
	}
	if p := pool.For(work); p != nil && mb*nb > 1 {
		p.Run(mb*nb, func(_, t int) {
			i0, q0 := (t%mb)*panelMC, (t/mb)*panelNP
			panelBlock(c, a, ab, w, bias, m, i0, min(i0+panelMC, m), q0, min(q0+panelNP, np))
		})
		return
	}
	for q0 := 0; q0 < np; q0 += panelNP { // small: on the caller, no closure to allocate
		for i0 := 0; i0 < m; i0 += panelMC {
			panelBlock(c, a, ab, w, bias, m, i0, min(i0+panelMC, m), q0, min(q0+panelNP, np))
		}
	}
}

// Blocking of MatMulPanels: a pool task owns rows i0…i0+panelMC-1 of c and
// panels q0…q0+panelNP-1. Within it each panel (k·64 bytes, in L2) meets
// every 6-row tile of the task's rows of a in turn. Tasks are numbered row
// block first, so consecutive tasks share their panels.
const (
	panelMC       = 72 // rows of a per task, a multiple of 6
	panelNP       = 8  // panels per task
	panelGemvMaxM = 3  // largest m run row by row through gemvPanels*AVX2
	// panelGemvWork weighs a row-by-row product's multiply-adds for the
	// pool's serial threshold: each streams its weight from memory rather
	// than cache, several times the time of a tile's multiply-add.
	panelGemvWork = 8
)

// panelBlock computes rows i0…i1-1 of c for panels q0…q1-1 (see
// MatMulPanels); m is a's row count (it chooses the kernel, not the block);
// ab is a in bfloat16 in the dot mode, else nil.
func panelBlock(c, a []float32, ab []uint16, w *Panels, bias []float32, m, i0, i1, q0, q1 int) {
	n, k := w.N, w.K
	j0, j1 := q0*panelW, min(q1*panelW, n)
	switch {
	case ab != nil && HasBF16Dot() && k > 0:
		panelDotAVX512(c, ab, w, i0, i1, q0, q1)
	case ab != nil:
		panelDotGo(c, ab, w, i0, i1, j0, j1)
	case !impl.simd() || k == 0:
		panelBlockGo(c, a, w, i0, i1, j0, j1)
	case m <= panelGemvMaxM:
		for i := i0; i < i1; i++ {
			panelGemvAVX2(c[i*n:(i+1)*n], a[i*k:(i+1)*k], w, q0, q1)
		}
	case impl == implAVX512:
		panelTilesAVX512(c, a, w, i0, i1, q0, q1)
	default:
		panelTilesAVX2(c, a, w, i0, i1, q0, q1)
	}
	addBias(c, bias, n, i0, i1, j0, j1)
}

// panelBlockGo is the pure-Go twin: c[i, j0:j1] for rows i0…i1-1, one
// float32 accumulator per element, p increasing.
func panelBlockGo(c, a []float32, w *Panels, i0, i1, j0, j1 int) {
	n, k := w.N, w.K
	buf := w.panelBuf()
	for q := j0 / panelW; q*panelW < j1; q++ {
		pan := w.panelF32(q, buf)
		for j := q * panelW; j < min(j1, (q+1)*panelW); j++ {
			col := pan[j%panelW:]
			for i := i0; i < i1; i++ {
				var s float32
				for p, x := range a[i*k : (i+1)*k] {
					s += x * col[p*panelW]
				}
				c[i*n+j] = s
			}
		}
	}
	putPanelBuf(buf)
}

// panelBufs lend half-precision products a float32 panel (steady state
// allocates nothing).
var panelBufs = sync.Pool{New: func() any { return new([]float32) }}

// panelBuf returns a buffer for panelF32 from panelBufs when w is half
// precision, nil when its float32 panels are read in place; putPanelBuf
// gives it back.
func (w *Panels) panelBuf() *[]float32 {
	if w.hdata == nil {
		return nil
	}
	buf := panelBufs.Get().(*[]float32)
	if pk := panelW * w.K; cap(*buf) < pk {
		*buf = make([]float32, pk)
	}
	return buf
}

// putPanelBuf returns a buffer of panelBuf to the pool (nil: nothing).
func putPanelBuf(buf *[]float32) {
	if buf != nil {
		panelBufs.Put(buf)
	}
}

// panelF32 returns panel q in float32: w's own data, or the half-precision
// panel widened into buf (from panelBuf).
func (w *Panels) panelF32(q int, buf *[]float32) []float32 {
	pk := panelW * w.K
	if w.hdata == nil {
		return w.data[q*pk : (q+1)*pk]
	}
	pan := (*buf)[:pk]
	w.half.Widen(pan, w.hdata[q*pk:(q+1)*pk])
	return pan
}

// gemvPanelsCall multiplies one row ai of a by the p panels q…q+p-1 of w
// into dst (p·16 values) with gemvPanels<p>AVX2 or its half-precision
// twin. Static calls of the noescape kernels keep dst on the caller's
// stack (a table of function values would move it to the heap).
func gemvPanelsCall(dst, ai []float32, w *Panels, q, p int) {
	k := w.K
	pk := panelW * k
	pf := w.prefetch
	if w.hdata == nil {
		b := w.data[q*pk : (q+p)*pk]
		switch {
		case p == 1 && pf:
			gemvPanels1PFAVX2(dst, ai, b, k, pk)
		case p == 1:
			gemvPanels1AVX2(dst, ai, b, k, pk)
		case p == 2 && pf:
			gemvPanels2PFAVX2(dst, ai, b, k, pk)
		case p == 2:
			gemvPanels2AVX2(dst, ai, b, k, pk)
		case p == 3 && pf:
			gemvPanels3PFAVX2(dst, ai, b, k, pk)
		case p == 3:
			gemvPanels3AVX2(dst, ai, b, k, pk)
		case pf:
			gemvPanels4PFAVX2(dst, ai, b, k, pk)
		default:
			gemvPanels4AVX2(dst, ai, b, k, pk)
		}
		return
	}
	b := w.hdata[q*pk : (q+p)*pk]
	if w.half == BF16 {
		switch {
		case p == 1 && pf:
			gemvPanels1BF16PFAVX2(dst, ai, b, k, pk)
		case p == 1:
			gemvPanels1BF16AVX2(dst, ai, b, k, pk)
		case p == 2 && pf:
			gemvPanels2BF16PFAVX2(dst, ai, b, k, pk)
		case p == 2:
			gemvPanels2BF16AVX2(dst, ai, b, k, pk)
		case p == 3 && pf:
			gemvPanels3BF16PFAVX2(dst, ai, b, k, pk)
		case p == 3:
			gemvPanels3BF16AVX2(dst, ai, b, k, pk)
		case pf:
			gemvPanels4BF16PFAVX2(dst, ai, b, k, pk)
		default:
			gemvPanels4BF16AVX2(dst, ai, b, k, pk)
		}
		return
	}
	switch {
	case p == 1 && pf:
		gemvPanels1F16PFAVX2(dst, ai, b, k, pk)
	case p == 1:
		gemvPanels1F16AVX2(dst, ai, b, k, pk)
	case p == 2 && pf:
		gemvPanels2F16PFAVX2(dst, ai, b, k, pk)
	case p == 2:
		gemvPanels2F16AVX2(dst, ai, b, k, pk)
	case p == 3 && pf:
		gemvPanels3F16PFAVX2(dst, ai, b, k, pk)
	case p == 3:
		gemvPanels3F16AVX2(dst, ai, b, k, pk)
	case pf:
		gemvPanels4F16PFAVX2(dst, ai, b, k, pk)
	default:
		gemvPanels4F16AVX2(dst, ai, b, k, pk)
	}
}

// scaleTile runs the r-row mmScale tile (r = 6, 4, 2 or 1) with alpha 1 by
// a static call (see gemvPanelsCall).
func scaleTile(r int, c []float32, ldc int, a []float32, lda int, b []float32, ldb, n, k int) {
	switch r {
	case 6:
		mmScaleAVX2(c, ldc, a, lda, b, ldb, n, k, 1)
	case 4:
		mmScale4AVX2(c, ldc, a, lda, b, ldb, n, k, 1)
	case 2:
		mmScale2AVX2(c, ldc, a, lda, b, ldb, n, k, 1)
	default:
		mmScale1AVX2(c, ldc, a, lda, b, ldb, n, k, 1)
	}
}

// panelGemvAVX2 sets c[j] (c is one row of n) for the columns of panels
// q0…q1-1 from one row ai of a, four panels per kernel call. A last panel
// with fewer than 16 columns is computed into a stack buffer.
func panelGemvAVX2(c, ai []float32, w *Panels, q0, q1 int) {
	n := w.N
	full := min(q1, n/panelW) // panels whose 16 columns are all in c
	q := q0
	for q < full {
		p := min(4, full-q)
		gemvPanelsCall(c[q*panelW:(q+p)*panelW], ai, w, q, p)
		q += p
	}
	if q < q1 { // the last, partial panel
		var buf [panelW]float32
		gemvPanelsCall(buf[:], ai, w, q, 1)
		copy(c[q*panelW:n], buf[:])
	}
}

// panelTilesAVX2 sets rows i0…i1-1 of c for panels q0…q1-1 with the 6×16
// tiles (mmScale*AVX2 with alpha 1: c = 1·Σ, exact), 4-, 2- and 1-row tiles
// for the last rows, a stack buffer for a partial last panel. Each panel
// (k·64 bytes, in L2; widened once into a float32 buffer when half
// precision) meets every row tile of the block in turn.
func panelTilesAVX2(c, a []float32, w *Panels, i0, i1, q0, q1 int) {
	n, k := w.N, w.K
	buf := w.panelBuf()
	for q := q0; q < q1; q++ {
		b := w.panelF32(q, buf)
		j := q * panelW
		if j+panelW <= n {
			for i := i0; i < i1; {
				r := tileRows(i1 - i)
				scaleTile(r, c[i*n+j:(i+r-1)*n+j+panelW], n, a[i*k:(i+r)*k], k, b, panelW, panelW, k)
				i += r
			}
			continue
		}
		var part [MMRows * panelW]float32 // partial panel: tiles into part, then the valid columns
		for i := i0; i < i1; {
			r := tileRows(i1 - i)
			scaleTile(r, part[:r*panelW], panelW, a[i*k:(i+r)*k], k, b, panelW, panelW, k)
			for t := 0; t < r; t++ {
				copy(c[(i+t)*n+j:(i+t)*n+n], part[t*panelW:])
			}
			i += r
		}
	}
	putPanelBuf(buf)
}
