package kernels

// MMRows512 is the number of rows of the largest AVX-512 register tile of
// MatMulRows, MatMulAddRows, MatMulTAddRows and MatMulPanels: 12 rows × 32
// columns (two zmm per row; tiles of 8, 4, 2 and 1 rows take the rest, and
// a last 16 columns run one zmm per row).
const MMRows512 = 12

// mm512Tile is the signature of the AVX-512 tiles: a rows × n block of c
// (n a multiple of 16) from a and the 16-column slabs of b, slab s (k, 16)
// with row stride ldb starting bs floats after slab s−1 (bs = 16 when b is
// row-major, the panel size for packed panels).
type mm512Tile func(c []float32, ldc int, a []float32, lda int, b []float32, ldb, bs, n, k int, alpha float32)

// tileRows512 is the height of the next AVX-512 register tile for rows rows
// left: 12, then 8, 4, 2 or 1.
func tileRows512(rows int) int {
	for _, r := range [...]int{12, 8, 4, 2} {
		if rows >= r {
			return r
		}
	}
	return 1
}

// mmRows512 runs the whole 16-column groups (n16 columns) of mmRows with
// the AVX-512 tiles; b is row-major, so its slabs are 16 floats apart.
func mmRows512(kind mmKind, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n16, k int, alpha float32) {
	for i := 0; i < m; {
		rows := tileRows512(m - i)
		ai := i * lda // first element of row i of a (of column i when transposed)
		if kind == mmAddT {
			ai = i
		}
		mm512Tiles[kind][rows](c[i*ldc:], ldc, a[ai:], lda, b, ldb, 16, n16, k, alpha)
		i += rows
	}
}

// panelTilesAVX512 is panelTilesAVX2 with the AVX-512 tiles: rows i0…i1-1
// of c for panels q0…q1-1, two float32 panels at a time (a 12×32 tile
// reads both, bs = one panel apart), a last single panel, a half-precision
// panel or a partial last panel one at a time (the partial one through a
// stack buffer). Each pair of panels meets every row tile of the block in
// turn. The sums are the FMA chains of the AVX2 tiles (c = 1·Σ, exact).
func panelTilesAVX512(c, a []float32, w *Panels, i0, i1, q0, q1 int) {
	n, k := w.N, w.K
	pk := panelW * k
	tile := mm512Tiles[mmScale]
	buf := w.panelBuf()
	for q := q0; q < q1; {
		j := q * panelW
		cols, b := panelW, []float32(nil)
		if w.hdata == nil && q+1 < q1 && j+2*panelW <= n {
			cols, b = 2*panelW, w.data[q*pk:(q+2)*pk]
		} else {
			b = w.panelF32(q, buf)
		}
		for i := i0; i < i1; {
			r := tileRows512(i1 - i)
			if j+cols <= n {
				tile[r](c[i*n+j:(i+r-1)*n+j+cols], n, a[i*k:(i+r)*k], k, b, panelW, pk, cols, k, 1)
			} else {
				var part [MMRows512 * panelW]float32 // partial panel: tiles into part, then the valid columns
				tile[r](part[:r*panelW], panelW, a[i*k:(i+r)*k], k, b, panelW, pk, panelW, k, 1)
				for t := 0; t < r; t++ {
					copy(c[(i+t)*n+j:(i+t)*n+n], part[t*panelW:])
				}
			}
			i += r
		}
		q += cols / panelW
	}
	putPanelBuf(buf)
}
