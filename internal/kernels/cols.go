package kernels

import (
	"fmt"
	"math"
)

// The column kernels run the online softmax of the fused attention kernel on
// a tile of logits stored (keys, queries): each query is a column, so the
// AVX2 path keeps 8 queries in one register and walks down their columns
// (no horizontal reductions, no call per query).

// ColMaxCount sets, for each column j < n of the (m, n) matrix s with row
// stride lds, mx[j] to the largest s[i][j] that is not NaN (−Inf if there is
// none) and cnt[j] to the number of s[i][j] that are not −Inf (NaN counts):
//
//	for j := 0; j < n; j++ {
//		mx[j], cnt[j] = −Inf, 0
//		for i := 0; i < m; i++ {
//			if v := s[i*lds+j]; v != −Inf { cnt[j]++; if v > mx[j] { mx[j] = v } }
//		}
//	}
//
// (MaxCount down a column.) Max is exact, so only the sign of a zero max may
// differ between the paths. It panics if a slice is too short.
func ColMaxCount(mx []float32, cnt []int32, s []float32, lds, m, n int) {
	if m < 0 || n < 0 || len(mx) < n || len(cnt) < n || !fitsRows(len(s), m, n, lds) {
		panic(fmt.Sprintf("kernels.ColMaxCount: bad sizes m=%d n=%d lds=%d len(s)=%d len(mx)=%d len(cnt)=%d",
			m, n, lds, len(s), len(mx), len(cnt)))
	}
	j := 0
	if impl.simd() && m > 0 {
		j = n &^ 7
		if j > 0 && impl == implAVX512 {
			colMaxCountAVX512(mx, cnt, s, lds, m, j)
		} else if j > 0 {
			colMaxCountAVX2(mx, cnt, s, lds, m, j)
		}
	}
	colMaxCountGo(mx, cnt, s, lds, m, j, n)
}

// colMaxCountGo is the twin of ColMaxCount on columns [j0, j1).
func colMaxCountGo(mx []float32, cnt []int32, s []float32, lds, m, j0, j1 int) {
	negInf := float32(math.Inf(-1))
	for j := j0; j < j1; j++ {
		x, c := negInf, int32(0)
		for i := range m {
			if v := s[i*lds+j]; v != negInf {
				c++
				if v > x {
					x = v
				}
			}
		}
		mx[j], cnt[j] = x, c
	}
}

// ColExpShiftSum sets p[i][j] = Exp(s[i][j] − shift[j]) for the (m, n)
// matrices p and s (row strides ldp and lds; p may be s) and each column's
// sum[j] = Σ_i p[i][j]; when t is not nil, also the entropy term of the fused
// attention kernel, as ExpShiftSumT takes it:
//
//	for j := 0; j < n; j++ {
//		sum[j], t[j] = 0, 0
//		for i := 0; i < m; i++ {
//			d := s[i*lds+j] − shift[j]; e := Exp(d)
//			p[i*ldp+j] = e; sum[j] += e
//			t[j] += e * max(d, lo)   // lo = ln 2^-126: a masked −Inf logit adds 0·lo = 0
//		}
//	}
//
// Each column is summed with i increasing on every path (the SIMD paths give
// each column its own lane — 8 columns per ymm on AVX2, 16 per zmm on
// AVX-512 — and compute Exp's bits as ExpShiftSum does), so the paths agree
// bit for bit where Exp is compiled without FMA, and the two SIMD paths
// always. It panics if a slice is too short.
func ColExpShiftSum(p []float32, ldp int, s []float32, lds, m, n int, shift, sum, t []float32) {
	if m < 0 || n < 0 || len(shift) < n || len(sum) < n || t != nil && len(t) < n ||
		!fitsRows(len(s), m, n, lds) || !fitsRows(len(p), m, n, ldp) {
		panic(fmt.Sprintf("kernels.ColExpShiftSum: bad sizes m=%d n=%d lds=%d ldp=%d len(s)=%d len(p)=%d len(shift)=%d len(sum)=%d len(t)=%d",
			m, n, lds, ldp, len(s), len(p), len(shift), len(sum), len(t)))
	}
	j := 0
	if impl.simd() && m > 0 {
		j = n &^ 7
		switch {
		case j == 0:
		case impl == implAVX512 && t != nil:
			colExpShiftSumTAVX512(p, ldp, s, lds, m, j, shift, sum, t)
		case impl == implAVX512:
			colExpShiftSumAVX512(p, ldp, s, lds, m, j, shift, sum)
		case t != nil:
			colExpShiftSumTAVX2(p, ldp, s, lds, m, j, shift, sum, t)
		default:
			colExpShiftSumAVX2(p, ldp, s, lds, m, j, shift, sum)
		}
	}
	colExpShiftSumGo(p, ldp, s, lds, m, j, n, shift, sum, t)
}

// colExpShiftSumGo is the twin of ColExpShiftSum on columns [j0, j1).
func colExpShiftSumGo(p []float32, ldp int, s []float32, lds, m, j0, j1 int, shift, sum, t []float32) {
	for j := j0; j < j1; j++ {
		var l, tt float32
		for i := range m {
			d := s[i*lds+j] - shift[j]
			e := Exp(d)
			p[i*ldp+j] = e
			l += e
			if d < expLo {
				d = expLo
			}
			tt += e * d
		}
		sum[j] = l
		if t != nil {
			t[j] = tt
		}
	}
}
