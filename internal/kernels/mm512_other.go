//go:build !amd64 || purego

package kernels

// No AVX-512 tiles here (haveAVX512 is false): the table is never read.
var mm512Tiles [3][MMRows512 + 1]mm512Tile
