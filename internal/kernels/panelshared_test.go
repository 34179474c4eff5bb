package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulPanelsShared: every product has MatMulPanels' bits (row by row
// for m ≤ 3, tiles above), on a pool that splits everything and on none,
// for products of different widths (whole panels and not), with and without
// bias, float32 and bf16 panels mixed; each is also checked against the
// float64 reference.
func TestMatMulPanelsShared(t *testing.T) { forEachImpl(t, testMatMulPanelsShared) }

func testMatMulPanelsShared(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	pool := NewPool(2).WithSerialWork(0)
	defer pool.Close()
	const k = 37
	widths := []int{40, 17, 160, 1}
	for _, m := range []int{1, 2, 3, 7, 80} {
		for _, p := range []*Pool{nil, pool} {
			a := randSlice(r, m*k)
			var ps []PanelsProduct
			var bs [][]float32
			for i, n := range widths {
				b := randSlice(r, n*k)
				w := PackPanels(b, n, k)
				if i == 2 {
					w = PackPanelsHalf(b, BF16, n, k)
					for j := range b {
						b[j] = w.At(j) // the reference multiplies the rounded weights
					}
				}
				var bias []float32
				if i%2 == 0 {
					bias = randSlice(r, n)
				}
				c := make([]float32, m*n+1)
				c[m*n] = 777 // guard
				ps = append(ps, PanelsProduct{C: c[:m*n], W: w, Bias: bias})
				bs = append(bs, b)
			}
			MatMulPanelsShared(p, a, m, ps...)
			for i, pr := range ps {
				n := widths[i]
				tag := fmt.Sprintf("m=%d pool=%v product %d (n=%d)", m, p != nil, i, n)
				if pr.C[:m*n+1][m*n] != 777 {
					t.Fatalf("%s: guard overwritten", tag)
				}
				want := make([]float32, m*n)
				MatMulPanels(nil, want, a, pr.W, pr.Bias, m)
				for j := range want {
					if math.Float32bits(pr.C[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%s: element %d = %v, MatMulPanels %v", tag, j, pr.C[j], want[j])
					}
				}
				mmCheck(t, tag, pr.C, a, bs[i], pr.Bias, m, n, k)
			}
		}
	}
	mustPanic(t, "MatMulPanelsShared depth mismatch", func() {
		MatMulPanelsShared(nil, make([]float32, 8), 1,
			PanelsProduct{C: make([]float32, 2), W: PackPanels(make([]float32, 16), 2, 8)},
			PanelsProduct{C: make([]float32, 2), W: PackPanels(make([]float32, 8), 2, 4)})
	})
}
