package telemetry

import (
	"math"
	"sort"
)

// bucketIndex finds the histogram bucket of a value: the first bucket whose
// upper bound is ≥ v (Prometheus buckets are "le": a value equal to a bound
// falls in that bucket), n for the +Inf bucket.
//
// The hot path reads a table indexed by the value's exponent and top
// cellBits mantissa bits, a "cell": for positive floats the bit pattern
// orders like the value, so a cell is an interval [least, next cell's
// least). Each entry is the number of bounds strictly below the cell's
// least value, computed exactly when the table is built: a lower bound for
// the bucket of any value in the cell, never past it. A short linear step
// over the bounds inside the cell finishes. The table spans 64 octaves
// ending two above the largest bound's; values outside it (negatives, NaN,
// ±Inf, zero and tiny magnitudes unless the table reaches them, huge ones)
// take a binary search.
//
// Both arrays have constant sizes, in the struct, so that the hot path has
// neither bounds checks nor pointers to load; at most 255 bounds.
type bucketIndex struct {
	first uint64                 // the table's first cell (bits >> cellShift)
	n     int                    // the number of bounds
	cells [tableCells]uint8      // (cell) bounds strictly below the cell's least value
	upper [maxBounds + 1]float64 // the bounds, then +Inf: a sentinel for the linear step
}

const (
	cellBits   = 4 // mantissa bits in a cell index: 16 cells per octave
	cellShift  = 52 - cellBits
	tableCells = 64 << cellBits
	maxBounds  = 255
	maxOctave  = 2046 // the largest finite float64s' (biased exponent); 2047 is Inf and NaN
)

func newBucketIndex(upper []float64) *bucketIndex {
	if len(upper) > maxBounds {
		panic("telemetry: more than 255 head histogram buckets")
	}
	x := &bucketIndex{n: len(upper)}
	copy(x.upper[:], upper)
	for k := len(upper); k < len(x.upper); k++ {
		x.upper[k] = math.Inf(1)
	}
	last := uint64(1023) // the octave of 1 when there is no finite positive bound
	for _, u := range upper {
		if u > 0 && !math.IsInf(u, 1) {
			last = min(math.Float64bits(u)>>52+2, maxOctave)
		}
	}
	first := max(last, 63) - 63 // octaves
	x.first = first << cellBits
	for c := range x.cells {
		least := math.Float64frombits((x.first + uint64(c)) << cellShift)
		x.cells[c] = uint8(sort.Search(len(upper), func(k int) bool { return upper[k] >= least }))
	}
	return x
}

// bucket is v's bucket, or -1 when v is NaN or ±Inf.
func (x *bucketIndex) bucket(v float64) int {
	if k := x.lookup(v); k >= 0 {
		return k
	}
	return x.search(v)
}

// lookup is v's bucket by the table, -1 when v lies outside it (then
// search).
func (x *bucketIndex) lookup(v float64) int {
	c := x.cell(v)
	if c >= tableCells {
		return -1
	}
	return x.inCell(c, v)
}

// cell is v's cell in the table; ≥ tableCells: v lies outside it. Hot loops
// call cell and inCell (both inlined) rather than lookup, to test once.
func (x *bucketIndex) cell(v float64) uint64 {
	return math.Float64bits(v)>>cellShift - x.first
}

// inCell is the bucket of v, which lies in cell c < tableCells.
func (x *bucketIndex) inCell(c uint64, v float64) int {
	i := x.cells[c%tableCells]
	for v > x.upper[i] { // stops at the +Inf sentinel at the latest
		i++
	}
	return int(i)
}

// search is bucket by binary search over the bounds, for values outside the
// table; -1 when v is NaN or ±Inf.
func (x *bucketIndex) search(v float64) int {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return -1
	}
	k, n := 0, x.n
	for n > 0 {
		h := n / 2
		if v > x.upper[k+h] {
			k, n = k+h+1, n-h-1
		} else {
			n = h
		}
	}
	return k
}
