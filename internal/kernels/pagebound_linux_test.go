package kernels

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"
)

// endOfPage returns a slice of n float32 whose last element is the last
// word before a page the process may not read, so a kernel that reads past
// its slice faults.
func endOfPage(t *testing.T, n int) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	s := unsafe.Slice((*float32)(unsafe.Pointer(&mem[size-page-4*n])), n)
	for i := range s {
		s[i] = float32(i%7) - 3
	}
	return s
}

// TestKernelsStayInside runs the row kernels and the matrix–vector product on
// every path with their inputs ending at an unreadable page: the last rows
// (the partial group of DotRows, the masked tail of the product) must not
// read past them.
func TestKernelsStayInside(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for n := 1; n <= 17; n++ {
			for _, stride := range []int{8, 11} {
				a := endOfPage(t, (n-1)*stride+8)
				x := []float32{1, 2, 3, 4, 5, 6, 7, 8}
				DotRows(make([]float32, n), 0.5, x, a, 0, stride)
				AxpyRows(make([]float32, 8), x[:1], a, (n-1)*stride, stride)
				w := make([]float32, n)
				w[n-1] = 1
				AxpyRows(make([]float32, 8), w, a, 0, stride)
			}
		}
		for _, k := range []int{1, 7, 8, 13, 64} {
			for _, n := range []int{1, 8, 9, 16, 23} {
				t.Run(fmt.Sprintf("n=%d k=%d", n, k), func(t *testing.T) {
					b := endOfPage(t, n*k)
					a := endOfPage(t, k)
					MatMulTransB(nil, make([]float32, n), a, b, nil, 1, n, k)
				})
			}
		}
	})
}
