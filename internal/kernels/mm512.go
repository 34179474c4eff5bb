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
