package tensor

// Arena lends float32 buffers that stay valid until its next Reset. A
// forward pass takes its activations from the arena of its state and the
// next pass, after a Reset, gets the same buffers back (grown when it asks
// for more), so decoding step after step allocates nothing: that keeps the
// garbage collector, and the CPU time it takes from serving, out of the
// hot loop.
//
// Buffers are handed out in call order: the i-th Floats after a Reset gets
// the i-th buffer. The zero Arena is ready to use; a nil *Arena allocates a
// fresh slice on every call, so code paths without a state need no arena.
// An Arena is not safe for concurrent use.
type Arena struct {
	bufs     [][]float32
	used     int // buffers lent since the last Reset
	ints     [][]int
	usedInts int
}

// Floats returns n zeroed float32s.
func (a *Arena) Floats(n int) []float32 {
	if n < 0 {
		panic("tensor.Arena.Floats: negative length")
	}
	if a == nil {
		return make([]float32, n)
	}
	if a.used == len(a.bufs) {
		a.bufs = append(a.bufs, nil)
	}
	b := a.bufs[a.used]
	if cap(b) < n {
		b = make([]float32, n)
		a.bufs[a.used] = b
	} else {
		b = b[:n]
		clear(b)
	}
	a.used++
	return b
}

// Ints returns n zeroed ints (positions, lengths), lent like Floats.
func (a *Arena) Ints(n int) []int {
	if n < 0 {
		panic("tensor.Arena.Ints: negative length")
	}
	if a == nil {
		return make([]int, n)
	}
	if a.usedInts == len(a.ints) {
		a.ints = append(a.ints, nil)
	}
	b := a.ints[a.usedInts]
	if cap(b) < n {
		b = make([]int, n)
		a.ints[a.usedInts] = b
	} else {
		b = b[:n]
		clear(b)
	}
	a.usedInts++
	return b
}

// Reset takes every buffer back: slices lent before must no longer be used.
func (a *Arena) Reset() {
	if a != nil {
		a.used, a.usedInts = 0, 0
	}
}

// Bytes is the memory the arena holds.
func (a *Arena) Bytes() int64 {
	if a == nil {
		return 0
	}
	var n int64
	for _, b := range a.bufs {
		n += 4 * int64(cap(b))
	}
	for _, b := range a.ints {
		n += 8 * int64(cap(b))
	}
	return n
}
