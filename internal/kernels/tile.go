package kernels

import (
	"fmt"
	"math"
)

// MatMulRows sets c = alpha·(a·b) for a (m, k) matrix a and a (k, n) matrix
// b, all row-major with row strides lda, ldb and ldc:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += a[i*lda+p] * b[p*ldb+j]
//			}
//			c[i*ldc+j] = alpha * s
//		}
//	}
//
// It is the QKᵀ tile of the fused attention kernel (a = queries, b = a key tile
// transposed). Every element is one float32 sum with p increasing from 0 (on
// the SIMD paths each product is added with one FMA, in register tiles of 16
// columns and 6, 4, 2 or 1 rows on AVX2, of 32 or 16 columns and 12, 8, 4, 2
// or 1 rows on AVX-512 — the same bits; columns outside whole 16-column
// groups go through the twin), then multiplied by alpha. It panics if a slice
// is too short for its shape.
func MatMulRows(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	checkRows("kernels.MatMulRows", c, ldc, a, lda, b, ldb, m, n, k, false)
	mmRows(mmScale, c, ldc, a, lda, b, ldb, m, n, k, alpha)
}

// MatMulAddRows adds a·b to c (shapes and strides as in MatMulRows):
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += a[i*lda+p] * b[p*ldb+j]
//			}
//			c[i*ldc+j] += s
//		}
//	}
//
// The sum of each element starts from 0, p increasing (one FMA per product on
// the AVX2 path), and is added to c once at the end.
func MatMulAddRows(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	checkRows("kernels.MatMulAddRows", c, ldc, a, lda, b, ldb, m, n, k, false)
	mmRows(mmAdd, c, ldc, a, lda, b, ldb, m, n, k, 1)
}

// MatMulTAddRows adds aᵀ·b to c for a (k, m) matrix a with row stride lda,
// b and c as in MatMulAddRows:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += a[p*lda+i] * b[p*ldb+j]
//			}
//			c[i*ldc+j] += s
//		}
//	}
//
// It is the PV tile of the fused attention kernel (a = the weights of a key
// tile stored (keys, queries), b = the value tile); sums as in MatMulAddRows.
func MatMulTAddRows(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	checkRows("kernels.MatMulTAddRows", c, ldc, a, lda, b, ldb, m, n, k, true)
	mmRows(mmAddT, c, ldc, a, lda, b, ldb, m, n, k, 1)
}

// MMRows is the number of rows of the largest AVX2 register tile of
// MatMulRows, MatMulAddRows and MatMulTAddRows (smaller tiles of 4, 2 and 1
// rows take the rest, so every row runs in registers).
const MMRows = 6

// mmKind is what mmRows does with the sums.
type mmKind uint8

const (
	mmScale mmKind = iota // c = alpha·(a·b)
	mmAdd                 // c += a·b
	mmAddT                // c += aᵀ·b
)

// fitsRows reports whether a slice of length l holds a (rows, cols) matrix with
// row stride ld.
func fitsRows(l, rows, cols, ld int) bool {
	return rows == 0 || cols == 0 || (ld >= cols && l >= cols && (rows-1) <= (l-cols)/ld)
}

// checkRows panics unless a, b and c hold their (strided) shapes: c (m, n),
// b (k, n), a (m, k), or (k, m) when aT.
func checkRows(name string, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, aT bool) {
	ar, ac := m, k
	if aT {
		ar, ac = k, m
	}
	if m < 0 || n < 0 || k < 0 || !fitsRows(len(c), m, n, ldc) || !fitsRows(len(a), ar, ac, lda) || !fitsRows(len(b), k, n, ldb) {
		panic(fmt.Sprintf("%s: bad sizes m=%d n=%d k=%d ldc=%d lda=%d ldb=%d len(c)=%d len(a)=%d len(b)=%d",
			name, m, n, k, ldc, lda, ldb, len(c), len(a), len(b)))
	}
}

func mmRows(kind mmKind, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int, alpha float32) {
	if m == 0 || n == 0 {
		return
	}
	if !impl.simd() || k == 0 {
		mmGo(kind, c, ldc, a, lda, b, ldb, 0, m, 0, n, k, alpha)
		return
	}
	n16 := n &^ 15
	switch {
	case n16 == 0:
	case impl == implAVX512:
		mmRows512(kind, c, ldc, a, lda, b, ldb, m, n16, k, alpha)
	default:
		for i := 0; i < m; {
			rows := tileRows(m - i)
			ai := i * lda // first element of row i of a (of column i when transposed)
			if kind == mmAddT {
				ai = i
			}
			mmTiles[kind][rows](c[i*ldc:], ldc, a[ai:], lda, b, ldb, n16, k, alpha)
			i += rows
		}
	}
	if n16 < n {
		mmGo(kind, c, ldc, a, lda, b, ldb, 0, m, n16, n, k, alpha)
	}
}

// tileRows is the height of the next register tile (mmTileRows of the
// generator) for rows rows left: 6, then 4, 2 or 1 (MatMulPanels and
// MatMulRows alike).
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

// mmGo is the pure-Go twin of MatMulRows, MatMulAddRows and MatMulTAddRows
// on rows [i0, i1) and columns [j0, j1).
func mmGo(kind mmKind, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, i0, i1, j0, j1, k int, alpha float32) {
	var buf [64]float32
	for i := i0; i < i1; i++ {
		for jc := j0; jc < j1; jc += len(buf) {
			w := min(len(buf), j1-jc)
			s := buf[:w]
			clear(s)
			for p := range k {
				var x float32
				if kind == mmAddT {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				bp := b[p*ldb+jc : p*ldb+jc+w]
				for j, y := range bp {
					s[j] += x * y
				}
			}
			ci := c[i*ldc+jc : i*ldc+jc+w]
			for j, v := range s {
				if kind == mmScale {
					ci[j] = alpha * v
				} else {
					ci[j] += v
				}
			}
		}
	}
}

// Transpose sets dst = srcᵀ for a (rows, cols) matrix src with row stride
// lds and a (cols, rows) dst with row stride ldd:
//
//	for r := 0; r < rows; r++ {
//		for c := 0; c < cols; c++ {
//			dst[c*ldd+r] = src[r*lds+c]
//		}
//	}
//
// The AVX2 path moves whole 8×8 blocks through registers, the edges as above.
// It panics if a slice is too short for its shape.
func Transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows < 0 || cols < 0 || !fitsRows(len(src), rows, cols, lds) || !fitsRows(len(dst), cols, rows, ldd) {
		panic(fmt.Sprintf("kernels.Transpose: bad sizes rows=%d cols=%d lds=%d ldd=%d len(src)=%d len(dst)=%d",
			rows, cols, lds, ldd, len(src), len(dst)))
	}
	r8, c8 := 0, 0
	if impl.simd() {
		r8, c8 = rows&^7, cols&^7
		if r8 > 0 && c8 > 0 {
			transposeAVX2(dst, ldd, src, lds, r8, c8)
		}
	}
	transposeGo(dst, ldd, src, lds, 0, r8, c8, cols)
	transposeGo(dst, ldd, src, lds, r8, rows, 0, cols)
}

// transposeGo is the twin of Transpose on rows [r0, r1), columns [c0, c1).
func transposeGo(dst []float32, ldd int, src []float32, lds int, r0, r1, c0, c1 int) {
	for r := r0; r < r1; r++ {
		for c, v := range src[r*lds+c0 : r*lds+c1] {
			dst[(c0+c)*ldd+r] = v
		}
	}
}

// MaxCount returns the largest x[i] that is not NaN (−Inf if there is none)
// and the number of x[i] that are not −Inf (NaN counts), the tile max of the
// fused attention kernel:
//
//	mx, n = −Inf, 0
//	for _, v := range x { if v != −Inf { n++; if v > mx { mx = v } } }
//
// The AVX2 path takes 8 lanes at a time (the last len(x)%8 as above); max is
// exact, so only the sign of a zero max may differ from the twin's.
func MaxCount(x []float32) (mx float32, n int) {
	negInf := float32(math.Inf(-1))
	mx = negInf
	i := 0
	if impl.simd() && len(x) >= 8 {
		i = len(x) &^ 7
		var ninf int
		mx, ninf = maxCountAVX2(x[:i], negInf)
		n = i - ninf
	}
	for _, v := range x[i:] {
		if v != negInf {
			n++
			if v > mx {
				mx = v
			}
		}
	}
	return mx, n
}

// PrefetchRows asks the CPU to bring rows x[off+r*stride : off+r*stride+width]
// (r < rows) into the cache; it is a hint, changes nothing and does nothing
// on the pure-Go path. Rows that fall outside x are left out.
func PrefetchRows(x []float32, off, stride, rows, width int) {
	if !impl.simd() || rows <= 0 || width <= 0 || stride < width || off < 0 || off+width > len(x) {
		return
	}
	rows = min(rows, (len(x)-off-width)/stride+1)
	prefetchRowsAVX2(x[off:], stride, rows, width)
}
