package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func BenchmarkMatMulTransB(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{1, 768, 768}, {256, 256, 256}, {512, 512, 512}, {128, 768, 768}, {512, 768, 768},
	}
	for _, s := range shapes {
		for _, threads := range []int{1, 0} {
			name := fmt.Sprintf("%dx%dx%d/t=%d", s.m, s.n, s.k, threads)
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				a, w, bias := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k), randSlice(r, s.n)
				c := make([]float32, s.m*s.n)
				p := NewPool(threads)
				defer p.Close()
				b.ResetTimer()
				for b.Loop() {
					MatMulTransB(p, c, a, w, bias, s.m, s.n, s.k)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
