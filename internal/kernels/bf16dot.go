package kernels

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// The bfloat16 dot mode of MatMulPanels: with SetBF16Dot, products of
// several rows (a prompt's prefill) round a to bfloat16 too and multiply
// pairs of bfloat16 values as AVX-512 BF16's VDPBF16PS does, twice the
// multiply-adds per instruction of the float32 tiles. It is a trade of
// precision for speed that the user chooses (`--weights bf16dot`): a keeps
// 8 significant bits instead of 24.

// HasBF16Dot reports whether MatMulPanels' bfloat16 dot mode runs in
// assembly here: the CPU has AVX-512 BF16 and the kernels run the avx512
// path. Elsewhere the mode runs the pure-Go twin (same bits, far slower),
// so callers offer the mode only where this is true.
func HasBF16Dot() bool { return haveBF16Dot && impl == implAVX512 }

// SetBF16Dot turns the bfloat16 dot mode of w on or off. It needs bfloat16
// panels (PackPanelsHalf with BF16) and an even inner dimension.
func (w *Panels) SetBF16Dot(on bool) error {
	if on && (w.hdata == nil || w.half != BF16) {
		return errors.New("kernels: the bfloat16 dot mode needs bfloat16 panels")
	}
	if on && w.K%2 != 0 {
		return fmt.Errorf("kernels: the bfloat16 dot mode needs an even inner dimension, have %d", w.K)
	}
	w.dot = on
	return nil
}

// BF16Dot reports whether w's bfloat16 dot mode is on.
func (w *Panels) BF16Dot() bool { return w.dot }

// F32SliceToBF16 rounds src to bfloat16 into dst (len(dst) must equal
// len(src)): dst[i] = F32ToBF16(src[i]), 16 values a step on the avx512 path
// with the same integer operations.
func F32SliceToBF16(dst []uint16, src []float32) {
	if len(dst) != len(src) {
		panic("kernels.F32SliceToBF16: length mismatch")
	}
	i := 0
	if impl == implAVX512 && len(src) >= 16 {
		i = len(src) &^ 15
		f32ToBF16AVX512(dst[:i], src[:i])
	}
	for ; i < len(src); i++ {
		dst[i] = F32ToBF16(src[i])
	}
}

// bf16Bufs lend MatMulPanels' dot mode its bfloat16 copy of a.
var bf16Bufs = sync.Pool{New: func() any { return new([]uint16) }}

// bf16Copy returns a buffer of bf16Bufs holding a (m, k) rounded to
// bfloat16; the caller puts it back.
func bf16Copy(a []float32, m, k int) *[]uint16 {
	buf := bf16Bufs.Get().(*[]uint16)
	if cap(*buf) < m*k {
		*buf = make([]uint16, m*k)
	}
	*buf = (*buf)[:m*k]
	F32SliceToBF16(*buf, a[:m*k])
	return buf
}

// dotBF16Step is one VDPBF16PS lane step, the reference of the dot mode:
//
//	s += x1·y1 (rounded to nearest even), then s += x0·y0
//
// with x, y bfloat16 (each product exact in float32), subnormal inputs read
// as zero and subnormal sums flushed to zero (DAZ and FTZ; sign kept).
func dotBF16Step(s float32, x0, x1, y0, y1 uint16) float32 {
	s = ftz(s + ftz(bf16DAZ(x1)*bf16DAZ(y1)))
	return ftz(s + ftz(bf16DAZ(x0)*bf16DAZ(y0)))
}

// bf16DAZ widens h, a subnormal as a zero of its sign.
func bf16DAZ(h uint16) float32 {
	if h&0x7f80 == 0 {
		h &= 0x8000
	}
	return BF16ToF32(h)
}

// ftz flushes a subnormal x to a zero of its sign.
func ftz(x float32) float32 {
	if b := math.Float32bits(x); b&0x7f800000 == 0 {
		return math.Float32frombits(b & 0x80000000)
	}
	return x
}

// panelDotGo is the pure-Go twin of the dot mode on rows i0…i1-1 of c and
// its columns j0…j1-1: ab is a rounded to bfloat16, (m, k) row-major.
func panelDotGo(c []float32, ab []uint16, w *Panels, i0, i1, j0, j1 int) {
	n, k := w.N, w.K
	pk := panelW * k
	for j := j0; j < j1; j++ {
		col := w.hdata[(j/panelW)*pk+j%panelW:]
		for i := i0; i < i1; i++ {
			ai := ab[i*k : (i+1)*k]
			var s float32
			for p := 0; p < k; p += 2 {
				s = dotBF16Step(s, ai[p], ai[p+1], col[p*panelW], col[(p+1)*panelW])
			}
			c[i*n+j] = s
		}
	}
}

// panelDotAVX512 is panelDotGo with the VDPBF16PS tiles (dotBF16*AVX512):
// two panels per 12×32 tile, a last single panel alone, a partial last
// panel through a stack buffer.
func panelDotAVX512(c []float32, ab []uint16, w *Panels, i0, i1, q0, q1 int) {
	n, k := w.N, w.K
	pk := panelW * k
	for q := q0; q < q1; {
		j := q * panelW
		cols := panelW
		if q+1 < q1 && j+2*panelW <= n {
			cols = 2 * panelW
		}
		b := w.hdata[q*pk : q*pk+cols/panelW*pk]
		for i := i0; i < i1; {
			r := tileRows512(i1 - i)
			if j+cols <= n {
				dotBF16Tile(r, c[i*n+j:(i+r-1)*n+j+cols], n, ab[i*k:(i+r)*k], k, b, pk, cols, k)
			} else {
				var part [MMRows512 * panelW]float32
				dotBF16Tile(r, part[:r*panelW], panelW, ab[i*k:(i+r)*k], k, b, pk, panelW, k)
				for t := 0; t < r; t++ {
					copy(c[(i+t)*n+j:(i+t)*n+n], part[t*panelW:])
				}
			}
			i += r
		}
		q += cols / panelW
	}
}
