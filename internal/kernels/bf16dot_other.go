//go:build !amd64 || purego

package kernels

const haveBF16Dot = false

func dotBF16Tile(r int, c []float32, ldc int, a []uint16, lda int, b []uint16, bs, n, k int) {
	panic("kernels: no AVX-512 BF16")
}

func f32ToBF16AVX512(dst []uint16, src []float32) { panic("kernels: no AVX-512") }
