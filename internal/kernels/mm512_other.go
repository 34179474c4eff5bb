//go:build !amd64 || purego

package kernels

// No AVX-512 tiles here (haveAVX512 is false): the table is never read.
var mm512Tiles [3][MMRows512 + 1]mm512Tile

func dotRowsAVX512(dst []float32, scale float32, x, a []float32, stride int) {
	panic("kernels: no AVX-512")
}
func axpyRowsAVX512(y, w, a []float32, stride int) { panic("kernels: no AVX-512") }
