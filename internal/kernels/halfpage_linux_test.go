package kernels

import (
	"fmt"
	"testing"
	"unsafe"
)

// endOfPage16 is endOfPage for n half-precision values: the last one ends
// at an unreadable page.
func endOfPage16(t *testing.T, n int) []uint16 {
	t.Helper()
	s := endOfPage(t, (n+1)/2)
	u := unsafe.Slice((*uint16)(unsafe.Pointer(&s[0])), 2*len(s))
	u = u[len(u)-n:]
	for i := range u {
		u[i] = 0x3c00 + uint16(i%5) // small float16 and bfloat16 values alike
	}
	return u
}

// TestHalfKernelsStayInside runs the widening kernels and the half-precision
// product with their half inputs ending at an unreadable page: the tails
// (16-bit copies of the last k%8 values, the scalar rest of a slice) must
// not read past them.
func TestHalfKernelsStayInside(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for n := 1; n <= 41; n++ {
			src := endOfPage16(t, n)
			F16SliceToF32(make([]float32, n), src)
			BF16SliceToF32(make([]float32, n), src)
		}
		for _, k := range []int{1, 7, 8, 13, 64} {
			for _, n := range []int{1, 8, 9, 16, 23} {
				for _, h := range []Half{F16, BF16} {
					t.Run(fmt.Sprintf("%v n=%d k=%d", h, n, k), func(t *testing.T) {
						b := endOfPage16(t, n*k)
						a := endOfPage(t, k)
						MatMulTransBHalf(nil, make([]float32, n), a, b, h, nil, 1, n, k)
					})
				}
			}
		}
	})
}
