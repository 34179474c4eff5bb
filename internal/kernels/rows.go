package kernels

// rowsSIMD is the row width from which DotRows and AxpyRows call the vector
// Dot and Axpy per row; narrower rows (small attention heads) are cheaper as
// plain loops than as one call each.
const rowsSIMD = 16

// DotRows computes, for the rows a[off+j·stride : off+j·stride+len(x)],
//
//	for j := range dst { dst[j] = scale * Σ_i x[i]·a[off+j*stride+i] }
//
// Rows of at least 16 values go through Dot (and its summation order); rows
// of 8 are summed pairwise ((0+1)+(2+3))+((4+5)+(6+7)); other narrow ones in
// index order.
func DotRows(dst []float32, scale float32, x, a []float32, off, stride int) {
	d := len(x)
	if d >= rowsSIMD {
		for j := range dst {
			o := off + j*stride
			dst[j] = scale * Dot(x, a[o:o+d])
		}
		return
	}
	if d == 8 { // tiny heads (e.g. stories260K): the query stays in registers
		x0, x1, x2, x3, x4, x5, x6, x7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
		for j := range dst {
			o := off + j*stride
			r := a[o : o+8 : o+8]
			dst[j] = scale * (((x0*r[0] + x1*r[1]) + (x2*r[2] + x3*r[3])) + ((x4*r[4] + x5*r[5]) + (x6*r[6] + x7*r[7])))
		}
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

// AxpyRows adds weighted rows into y:
//
//	for j, e := range w { if e != 0 { y[i] += e * a[off+j*stride+i] for i < len(y) } }
//
// Rows of weight exactly 0 are skipped (a masked key adds nothing, not even
// 0·Inf). Rows of at least 16 values go through Axpy.
func AxpyRows(y, w, a []float32, off, stride int) {
	d := len(y)
	if d == 8 { // tiny heads: the accumulator stays in registers
		y = y[:8:8]
		y0, y1, y2, y3, y4, y5, y6, y7 := y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]
		for j, e := range w {
			if e == 0 {
				continue
			}
			o := off + j*stride
			r := a[o : o+8 : o+8]
			y0, y1, y2, y3 = y0+e*r[0], y1+e*r[1], y2+e*r[2], y3+e*r[3]
			y4, y5, y6, y7 = y4+e*r[4], y5+e*r[5], y6+e*r[6], y7+e*r[7]
		}
		y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7] = y0, y1, y2, y3, y4, y5, y6, y7
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
