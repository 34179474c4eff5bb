//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// haveBF16Dot: the VDPBF16PS tiles (zbf16dot512_amd64.s) can run.
var haveBF16Dot = haveAVX512 && cpu.X86.HasAVX512BF16

// dotBF16Tile runs the r-row VDPBF16PS tile (r = 12, 8, 4, 2 or 1) by a
// static call (a table of function values would move part to the heap).
func dotBF16Tile(r int, c []float32, ldc int, a []uint16, lda int, b []uint16, bs, n, k int) {
	switch r {
	case 12:
		dotBF1612AVX512(c, ldc, a, lda, b, panelW, bs, n, k)
	case 8:
		dotBF168AVX512(c, ldc, a, lda, b, panelW, bs, n, k)
	case 4:
		dotBF164AVX512(c, ldc, a, lda, b, panelW, bs, n, k)
	case 2:
		dotBF162AVX512(c, ldc, a, lda, b, panelW, bs, n, k)
	default:
		dotBF161AVX512(c, ldc, a, lda, b, panelW, bs, n, k)
	}
}
