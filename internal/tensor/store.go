// Package tensor holds Headlight's storage types: flat buffers of float32,
// float16 or bfloat16 values that compute code widens to float32.
package tensor

import (
	"fmt"

	"github.com/headlight/headlight/internal/kernels"
)

// DType is the element type a Store keeps.
type DType uint8

const (
	F32  DType = iota // IEEE 754 binary32
	F16               // IEEE 754 binary16
	BF16              // bfloat16 (the top half of a binary32)
	// BF16Dot is a choice of weight precision, not a storage type: weights
	// stored as BF16 (StoreWeight, PackHalf) whose products of several rows
	// (a prompt's prefill) run in kernels.Panels' bfloat16 dot mode — the
	// activations rounded to bfloat16 too, AVX-512 BF16's VDPBF16PS, about
	// twice the float32 tiles' speed for 8 significant bits of activation
	// instead of 24 — and whose decoding steps keep BF16's exact product.
	// Offer it only where kernels.HasBF16Dot (elsewhere the mode runs a
	// slow pure-Go twin). The Stores it makes report BF16.
	BF16Dot
)

func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case BF16:
		return "bf16"
	case BF16Dot:
		return "bf16dot"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// ParseDType reads "f32", "f16", "bf16" or "bf16dot" (a weight precision
// only: see BF16Dot).
func ParseDType(s string) (DType, error) {
	switch s {
	case "f32", "float32", "":
		return F32, nil
	case "f16", "float16", "half":
		return F16, nil
	case "bf16", "bfloat16":
		return BF16, nil
	case "bf16dot":
		return BF16Dot, nil
	}
	return 0, fmt.Errorf("tensor: unknown dtype %q (want f32, f16, bf16 or bf16dot)", s)
}

// Size is the number of bytes one element takes.
func (d DType) Size() int {
	if d == F32 {
		return 4
	}
	return 2
}

// Store is a flat buffer of n elements of one DType. Writing rounds to the
// type (round to nearest even); reading widens to float32 exactly.
// The zero Store is empty.
type Store struct {
	dtype  DType
	f32    []float32       // when dtype == F32 and not packed
	u16    []uint16        // when dtype is F16 or BF16
	panels *kernels.Panels // when a weight matrix is packed (PackF32, PackHalf)
}

// PackF32 returns the float32 weight matrix w (n, k), row-major, packed
// once into kernels.Panels: MatMulTransB then multiplies it with
// kernels.MatMulPanels (the outer-product tiles, ≈ 1.3× the throughput of
// the row-major product, one FMA chain per element for every batch size).
// The Store keeps only the packed copy (w can be dropped): Len, Get, Set
// and GetRows address its elements in w's row-major order, element by
// element, for the rare uses other than the product; F32 returns nil and
// Slice panics.
func PackF32(w []float32, n, k int) Store {
	return Store{dtype: F32, panels: kernels.PackPanels(w, n, k)}
}

// PackHalf returns the float32 weight matrix w (n, k), row-major, rounded
// to d (F16 or BF16, to nearest even, as Convert rounds) and packed into
// half-precision panels (kernels.PackPanelsHalf): MatMulTransB gives the
// float32 product of the rounded weights, streaming half the bytes. The
// Store behaves as PackF32's does.
//
// With BF16Dot the Store is BF16 with its panels in the bfloat16 dot mode
// (kernels.Panels.SetBF16Dot), unless k is odd, where the mode cannot run
// and the product stays exact.
func PackHalf(d DType, w []float32, n, k int) Store {
	if d != F16 && d != BF16 && d != BF16Dot {
		panic(fmt.Sprintf("tensor.PackHalf: %v is not half precision", d))
	}
	p := kernels.PackPanelsHalf(w, d.half(), n, k)
	if d == BF16Dot {
		d = BF16
		_ = p.SetBF16Dot(k%2 == 0) // bfloat16 panels: fails only for odd k, left exact
	}
	return Store{dtype: d, panels: p}
}

// StoreWeight returns the weight matrix s (n, k) packed in d (PackF32 for
// F32, PackHalf for F16 and BF16). s is returned as it is when it already
// is so; otherwise its values are read in row-major order (whatever s
// holds) and packed into a new Store.
func StoreWeight(d DType, s Store, n, k int) Store {
	if s.Len() != n*k {
		panic(fmt.Sprintf("tensor.StoreWeight: %d values for a (%d, %d) matrix", s.Len(), n, k))
	}
	if s.Packed() && s.dtype == d {
		return s
	}
	if s.Packed() && d == BF16Dot && s.dtype == BF16 && s.panels.BF16Dot() == (k%2 == 0) {
		return s
	}
	vals := s.Values()
	if d == F32 {
		return PackF32(vals, n, k)
	}
	return PackHalf(d, vals, n, k)
}

// Packed reports whether the Store holds packed weights (PackF32, PackHalf).
func (s Store) Packed() bool { return s.panels != nil }

// NewStore allocates a zeroed Store of n elements.
func NewStore(d DType, n int) Store {
	switch d {
	case F32:
		return Store{dtype: F32, f32: make([]float32, n)}
	case F16, BF16:
		return Store{dtype: d, u16: make([]uint16, n)}
	}
	panic(fmt.Sprintf("tensor.NewStore: bad dtype %v", d))
}

// FromF32 wraps x (no copy) as a float32 Store.
func FromF32(x []float32) Store { return Store{dtype: F32, f32: x} }

// Convert returns x rounded into a new Store of type d (a copy also for F32).
func Convert(d DType, x []float32) Store {
	s := NewStore(d, len(x))
	s.Set(0, x)
	return s
}

// DType reports the element type.
func (s Store) DType() DType { return s.dtype }

// Len is the number of elements.
func (s Store) Len() int {
	if s.panels != nil {
		return s.panels.N * s.panels.K
	}
	if s.dtype == F32 {
		return len(s.f32)
	}
	return len(s.u16)
}

// F32 returns the float32 backing slice, or nil when the Store is half
// precision or packed.
func (s Store) F32() []float32 {
	if s.dtype == F32 {
		return s.f32
	}
	return nil
}

// Values returns the Store's elements as float32 in order: its own slice
// when it is float32 and not packed, else a widened or unpacked copy.
func (s Store) Values() []float32 {
	if f := s.F32(); f != nil {
		return f
	}
	out := make([]float32, s.Len())
	s.Get(0, out)
	return out
}

// Get widens elements [off, off+len(dst)) into dst.
func (s Store) Get(off int, dst []float32) {
	if s.panels != nil {
		for i := range dst {
			dst[i] = s.panels.At(off + i)
		}
		return
	}
	switch s.dtype {
	case F32:
		copy(dst, s.f32[off:off+len(dst)])
	case F16, BF16:
		s.dtype.half().Widen(dst, s.u16[off:off+len(dst)])
	}
}

// Set rounds src into elements [off, off+len(src)).
func (s Store) Set(off int, src []float32) {
	if s.panels != nil {
		for i, v := range src {
			s.panels.SetAt(off+i, v)
		}
		return
	}
	switch s.dtype {
	case F32:
		copy(s.f32[off:off+len(src)], src)
	case F16:
		d := s.u16[off : off+len(src)]
		for i, v := range src {
			d[i] = kernels.F32ToF16(v)
		}
	case BF16:
		d := s.u16[off : off+len(src)]
		for i, v := range src {
			d[i] = kernels.F32ToBF16(v)
		}
	}
}

// Slice returns the sub-Store [from, to) sharing memory with s.
func (s Store) Slice(from, to int) Store {
	if s.panels != nil {
		panic("tensor.Store.Slice: a packed Store (PackF32, PackHalf) has no contiguous sub-Store")
	}
	if s.dtype == F32 {
		return Store{dtype: F32, f32: s.f32[from:to]}
	}
	return Store{dtype: s.dtype, u16: s.u16[from:to]}
}
