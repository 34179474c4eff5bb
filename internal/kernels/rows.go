package kernels

import "math"

// rowsSIMD is the row width from which DotRows and AxpyRows call the vector
// Dot and Axpy per row; narrower rows (small attention heads) are cheaper as
// plain loops than as one call each.
const rowsSIMD = 16

// axpyRows512Max is the widest row axpyRowsAVX512 keeps in registers (its
// generator's constant).
const axpyRows512Max = 256

// DotRows computes, for the rows a[off+j·stride : off+j·stride+len(x)],
//
//	for j := range dst { dst[j] = scale * Σ_i x[i]·a[off+j*stride+i] }
//
// Rows of at least 16 values go through Dot (and its summation order; on the
// AVX-512 path rows of a multiple of 32 values run in one call,
// dotRowsAVX512, with Dot's bits); rows of 8 in the order of dotRows8Go;
// other narrow ones in index order.
func DotRows(dst []float32, scale float32, x, a []float32, off, stride int) {
	d := len(x)
	if d >= rowsSIMD {
		if impl == implAVX512 && d%32 == 0 && rowsInside(len(a), off, stride, len(dst), d) {
			dotRowsAVX512(dst, scale, x, a[off:], stride) // one call, each row Dot's bits
			return
		}
		for j := range dst {
			o := off + j*stride
			dst[j] = scale * Dot(x, a[o:o+d])
		}
		return
	}
	if d == 8 {
		if impl.simd() && rowsInside(len(a), off, stride, len(dst), 8) {
			dotRows8AVX2(dst, scale, x, a[off:], stride)
			return
		}
		dotRows8Go(dst, scale, x, a, off, stride)
		return
	}
	for j := range dst {
		o := off + j*stride
		row := a[o : o+d : o+d]
		var s float32
		for i, v := range x {
			s += v * row[i]
		}
		dst[j] = scale * s
	}
}

// rowsInside reports whether n > 0 rows of width d, the first at off and the
// others stride ≥ 0 apart, lie inside a slice of length l (the assembly row
// kernels do not check bounds; the twins panic on bad arguments).
func rowsInside(l, off, stride, n, d int) bool {
	return n > 0 && off >= 0 && stride >= 0 && off <= l-d && fits(l-d-off, n-1, stride)
}

// dotRows8Go is DotRows for rows r of 8 values (tiny heads, e.g.
// stories260K), the query x in registers:
//
//	h_i = x[i]·r[i] + x[i+4]·r[i+4]    for i < 4
//	dst[j] = scale * ((h_0+h_2) + (h_1+h_3))
//
// (the lanes of Dot's reduction). The AVX2 path (dotRows8AVX2, eight rows at
// a time) rounds each h_i once (x[i]·r[i] rounded, then one FMA), so its
// results may differ from the twin's in the last bits; a row's value does not
// depend on its position or on len(dst).
func dotRows8Go(dst []float32, scale float32, x, a []float32, off, stride int) {
	x0, x1, x2, x3, x4, x5, x6, x7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	for j := range dst {
		o := off + j*stride
		r := a[o : o+8 : o+8]
		h0, h1, h2, h3 := x0*r[0]+x4*r[4], x1*r[1]+x5*r[5], x2*r[2]+x6*r[6], x3*r[3]+x7*r[7]
		dst[j] = scale * ((h0 + h2) + (h1 + h3))
	}
}

// AxpyRows adds weighted rows into y:
//
//	for j, e := range w { if e != 0 { y[i] += e * a[off+j*stride+i] for i < len(y) } }
//
// Rows of weight exactly 0 (or -0) are skipped (a masked key adds nothing, not
// even 0·Inf). Rows of at least 16 values go through Axpy (on the AVX-512
// path rows of a multiple of 16 values, at most axpyRows512Max, in one call,
// axpyRowsAVX512, with Axpy's bits), rows of 8 through axpyRows8Go.
func AxpyRows(y, w, a []float32, off, stride int) {
	d := len(y)
	if d == 8 {
		if impl.simd() && rowsInside(len(a), off, stride, len(w), 8) {
			axpyRows8AVX2(y, w, a[off:], stride)
			return
		}
		axpyRows8Go(y, w, a, off, stride)
		return
	}
	if impl == implAVX512 && d%16 == 0 && d > 0 && d <= axpyRows512Max && rowsInside(len(a), off, stride, len(w), d) {
		axpyRowsAVX512(y, w, a[off:], stride) // y in registers, each element Axpy's FMAs
		return
	}
	for j, e := range w {
		if e == 0 {
			continue
		}
		o := off + j*stride
		row := a[o : o+d : o+d]
		if d >= rowsSIMD {
			Axpy(e, row, y)
			continue
		}
		for i, v := range row {
			y[i] += e * v
		}
	}
}

// axpyRows8Go is AxpyRows for rows r of 8 values, in four partial sums
// (four independent chains of additions, not one per key), added to y at
// the end:
//
//	s[j%4][i] += e·r[i] for the rows j in order, unless e is ±0 (s from −0)
//	y[i] += (s[0][i] + s[1][i]) + (s[2][i] + s[3][i])
//
// (Starting from −0 leaves y, and the sign of a zero y, unchanged when no
// row is added.)
// The AVX2 path (axpyRows8AVX2, each partial sum in one register) rounds each
// e·r[i] + s once (FMA); the twin rounds the product and the sum where the
// compiler does not fuse them.
func axpyRows8Go(y, w, a []float32, off, stride int) {
	y = y[:8:8]
	var s [4][8]float32
	negZero := float32(math.Copysign(0, -1))
	for q := range s {
		for i := range s[q] {
			s[q][i] = negZero
		}
	}
	for j, e := range w {
		if e == 0 {
			continue
		}
		o := off + j*stride
		r := a[o : o+8 : o+8]
		p := &s[j%4]
		for i := range p {
			p[i] += e * r[i]
		}
	}
	for i := range y {
		y[i] += (s[0][i] + s[1][i]) + (s[2][i] + s[3][i])
	}
}
