package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatVec measures MatMulTransB on decoding shapes (small m) on one
// thread. GB/s counts the weights b streamed per call (n·k·4 bytes). hot
// reuses one b (in cache when it fits); cold cycles through copies of b
// totalling over 64 MiB, so b comes from memory. Compare with
// BenchmarkMemBandwidth.
func BenchmarkMatVec(b *testing.B) {
	shapes := []struct{ m, n, k int }{
		{1, 768, 768}, {1, 2048, 768}, {2, 768, 768}, {3, 768, 768}, {4, 768, 768}, // the 768-wide decode target
		{1, 172, 64}, {1, 512, 64}, {1, 64, 172}, // stories260K: FFN, classifier, FFN down
	}
	for _, s := range shapes {
		for _, cold := range []bool{false, true} {
			if cold && s.n*s.k < 1<<16 {
				continue
			}
			name := fmt.Sprintf("%dx%dx%d/hot", s.m, s.n, s.k)
			copies := 1
			if cold {
				name = fmt.Sprintf("%dx%dx%d/cold", s.m, s.n, s.k)
				copies = (64<<20)/(4*s.n*s.k) + 1
			}
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				a := randSlice(r, s.m*s.k)
				ws := make([][]float32, copies)
				for i := range ws {
					ws[i] = randSlice(r, s.n*s.k)
				}
				c := make([]float32, s.m*s.n)
				i := 0
				for b.Loop() {
					MatMulTransB(nil, c, a, ws[i], nil, s.m, s.n, s.k)
					if i++; i == copies {
						i = 0
					}
				}
				sec := b.Elapsed().Seconds()
				b.ReportMetric(4*float64(s.n)*float64(s.k)*float64(b.N)/sec/1e9, "GB/s")
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/sec/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMemBandwidth measures this machine's memory bandwidth on one
// thread over 64 MiB (well past the caches): copy counts the bytes read
// (copy), read the bytes read by Dot over two 32 MiB vectors.
func BenchmarkMemBandwidth(b *testing.B) {
	const n = 16 << 20 // floats: 64 MiB
	src, dst := make([]float32, n), make([]float32, n)
	for i := range src {
		src[i] = float32(i)
	}
	b.Run("copy", func(b *testing.B) {
		for b.Loop() {
			copy(dst, src)
		}
		b.ReportMetric(4*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			Dot(src[:n/2], src[n/2:])
		}
		b.ReportMetric(4*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	})
}
