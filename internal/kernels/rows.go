package kernels

// rowsSIMD is the row width from which DotRows and AxpyRows call the vector
// Dot and Axpy per row; narrower rows (small attention heads) are cheaper as
// plain loops than as one call each.
const rowsSIMD = 16

// DotRows computes, for the rows a[off+j·stride : off+j·stride+len(x)],
//
//	for j := range dst { dst[j] = scale * Σ_i x[i]·a[off+j*stride+i] }
//
// Rows of at least 16 values go through Dot (and its summation order);
// narrower ones are summed in index order.
func DotRows(dst []float32, scale float32, x, a []float32, off, stride int) {
	d := len(x)
	if d >= rowsSIMD {
		for j := range dst {
			o := off + j*stride
			dst[j] = scale * Dot(x, a[o:o+d])
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
