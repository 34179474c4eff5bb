package kernels

import "fmt"

// Panels is a weight matrix b (n, k) packed once for MatMulPanels: panel q
// holds rows 16q…16q+15 of b transposed, (k, 16) row-major, so element
// (j, p) of b is at data[(j/16)*16*k + p*16 + j%16]; the rows of the last
// panel past n are zero.
//
// Why a packed copy: the products of a transformer multiply activations by
// the same weights again and again. In this layout one row of a times a
// panel is an outer product (one broadcast of a[p], two loads of 16 weights,
// 16 multiply-adds per row of the tile), which runs at ≈ 96 % of a core's
// FMA peak where the dot-product tiles of MatMulTransB (which must read b's
// rows as they are) stop at 75–85 %, and the matrix–vector product of
// decoding reads each panel as one sequential stream.
type Panels struct {
	N, K int
	data []float32 // (⌈N/16⌉, K, 16)
}

// index is the position in data of element i of b in row-major order.
func (w *Panels) index(i int) int {
	if i < 0 || i >= w.N*w.K {
		panic(fmt.Sprintf("kernels.Panels: element %d of a (%d, %d) matrix", i, w.N, w.K))
	}
	j, p := i/w.K, i%w.K
	return (j/panelW)*panelW*w.K + p*panelW + j%panelW
}

// At returns element i of b in row-major order (b[i], i = j*k + p).
func (w *Panels) At(i int) float32 { return w.data[w.index(i)] }

// SetAt sets element i of b in row-major order.
func (w *Panels) SetAt(i int, v float32) { w.data[w.index(i)] = v }

// panelW is the width of a panel: the columns of one 6×16 register tile.
const panelW = 16

// PackPanels packs b (n, k), row-major, into a new Panels.
func PackPanels(b []float32, n, k int) *Panels {
	w := new(Panels)
	w.Pack(b, n, k)
	return w
}

// Pack repacks w to hold b (n, k), row-major, reusing w's memory when it is
// large enough (a product that packs its b on every call allocates once).
func (w *Panels) Pack(b []float32, n, k int) {
	if n < 0 || k < 0 || !fits(len(b), n, k) {
		panic(fmt.Sprintf("kernels.PackPanels: n=%d k=%d len(b)=%d", n, k, len(b)))
	}
	np := (n + panelW - 1) / panelW
	size := np * panelW * k
	if cap(w.data) < size {
		w.data = make([]float32, size)
	}
	w.N, w.K, w.data = n, k, w.data[:size]
	for q := 0; q < np; q++ { // panel q = rows 16q… of b, transposed
		rows := min(panelW, n-q*panelW)
		dst := w.data[q*panelW*k : (q+1)*panelW*k]
		if rows < panelW {
			clear(dst) // the rows past n
		}
		Transpose(dst, panelW, b[q*panelW*k:], k, rows, k)
	}
}

// MatMulPanels computes c = a·bᵀ + bias for b packed in w (n = w.N,
// k = w.K): the product of MatMulTransB, with one sum per element in the
// reference loop's order:
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
// matrix–vector kernels gemvPanels*AVX2 row by row, larger m the 6×16 tiles,
// both in that one order.
func MatMulPanels(pool *Pool, c, a []float32, w *Panels, bias []float32, m int) {
	n, k := w.N, w.K
	checkMatMul("MatMulPanels", len(a), n*k, len(c), bias, m, n, k)
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
	if p := pool.For(int64(m) * int64(n) * int64(k)); p != nil && mb*nb > 1 {
		p.Run(mb*nb, func(_, t int) {
			i0, q0 := (t%mb)*panelMC, (t/mb)*panelNP
			panelBlock(c, a, w, bias, m, i0, min(i0+panelMC, m), q0, min(q0+panelNP, np))
		})
		return
	}
	for q0 := 0; q0 < np; q0 += panelNP { // small: on the caller, no closure to allocate
		for i0 := 0; i0 < m; i0 += panelMC {
			panelBlock(c, a, w, bias, m, i0, min(i0+panelMC, m), q0, min(q0+panelNP, np))
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
)

// panelBlock computes rows i0…i1-1 of c for panels q0…q1-1 (see
// MatMulPanels); m is a's row count (it chooses the kernel, not the block).
func panelBlock(c, a []float32, w *Panels, bias []float32, m, i0, i1, q0, q1 int) {
	n, k := w.N, w.K
	j0, j1 := q0*panelW, min(q1*panelW, n)
	switch {
	case impl != implAVX2 || k == 0:
		panelBlockGo(c, a, w, i0, i1, j0, j1)
	case m <= panelGemvMaxM:
		for i := i0; i < i1; i++ {
			panelGemvAVX2(c[i*n:(i+1)*n], a[i*k:(i+1)*k], w, q0, q1)
		}
	default:
		panelTilesAVX2(c, a, w, i0, i1, q0, q1)
	}
	addBias(c, bias, n, i0, i1, j0, j1)
}

// panelBlockGo is the pure-Go twin: c[i, j0:j1] for rows i0…i1-1, one
// float32 accumulator per element, p increasing.
func panelBlockGo(c, a []float32, w *Panels, i0, i1, j0, j1 int) {
	n, k := w.N, w.K
	for i := i0; i < i1; i++ {
		ai := a[i*k : (i+1)*k]
		for j := j0; j < j1; j++ {
			col := w.data[(j/panelW)*panelW*k+j%panelW:]
			var s float32
			for p, x := range ai {
				s += x * col[p*panelW]
			}
			c[i*n+j] = s
		}
	}
}

// gemvPanels[P-1] multiplies one row of a by P panels (asm/panels.go).
var gemvPanels = [4]func(c, a, w []float32, k, stride int){gemvPanels1AVX2, gemvPanels2AVX2, gemvPanels3AVX2, gemvPanels4AVX2}

// panelGemvAVX2 sets c[j] (c is one row of n) for the columns of panels
// q0…q1-1 from one row ai of a, four panels per kernel call. A last panel
// with fewer than 16 columns is computed into a stack buffer.
func panelGemvAVX2(c, ai []float32, w *Panels, q0, q1 int) {
	n, k := w.N, w.K
	pk := panelW * k
	full := min(q1, n/panelW) // panels whose 16 columns are all in c
	q := q0
	for q < full {
		p := min(4, full-q)
		gemvPanels[p-1](c[q*panelW:(q+p)*panelW], ai, w.data[q*pk:(q+p)*pk], k, pk)
		q += p
	}
	if q < q1 { // the last, partial panel
		var buf [panelW]float32
		gemvPanels1AVX2(buf[:], ai, w.data[q*pk:(q+1)*pk], k, pk)
		copy(c[q*panelW:n], buf[:])
	}
}

// panelTilesAVX2 sets rows i0…i1-1 of c for panels q0…q1-1 with the 6×16
// tiles (mmScale*AVX2 with alpha 1: c = 1·Σ, exact), 4-, 2- and 1-row tiles
// for the last rows, a stack buffer for a partial last panel.
func panelTilesAVX2(c, a []float32, w *Panels, i0, i1, q0, q1 int) {
	n, k := w.N, w.K
	pk := panelW * k
	for q := q0; q < q1; q++ {
		b := w.data[q*pk : (q+1)*pk]
		j := q * panelW
		if j+panelW <= n {
			for i := i0; i < i1; {
				r := tileRows(i1 - i)
				mmTiles[mmScale][r](c[i*n+j:(i+r-1)*n+j+panelW], n, a[i*k:(i+r)*k], k, b, panelW, panelW, k, 1)
				i += r
			}
			continue
		}
		var buf [MMRows * panelW]float32 // partial panel: tiles into buf, then the valid columns
		for i := i0; i < i1; {
			r := tileRows(i1 - i)
			mmTiles[mmScale][r](buf[:r*panelW], panelW, a[i*k:(i+r)*k], k, b, panelW, panelW, k, 1)
			for t := 0; t < r; t++ {
				copy(c[(i+t)*n+j:(i+t)*n+n], buf[t*panelW:])
			}
			i += r
		}
	}
}

// tileRows is the height of the next tile for rows rows left: 6, then 4,
// 2 or 1.
func tileRows(rows int) int {
	switch {
	case rows >= 6:
		return 6
	case rows >= 4:
		return 4
	case rows >= 2:
		return 2
	}
	return 1
}
