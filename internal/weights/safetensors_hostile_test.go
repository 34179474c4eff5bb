package weights

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
)

// hostileST is a set of malformed files, each with what is wrong with it.
func hostileST() map[string][]byte {
	ok := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	data := le32(1, 2)
	lenOnly := func(n uint64, rest []byte) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	full := stBytes(ok, data)
	return map[string][]byte{
		"empty":                   {},
		"short length":            {1, 2, 3},
		"header beyond file":      lenOnly(uint64(len(ok)+100), []byte(ok)),
		"header over 100 MB":      lenOnly(200<<20, full[8:]),
		"header length 2^64-1":    lenOnly(math.MaxUint64, full[8:]),
		"truncated data":          full[:len(full)-1],
		"bad json":                stBytes(`{"w":{"dtype":"F32",`, data),
		"not an object":           stBytes(`[1,2,3]`, data),
		"trailing garbage":        stBytes(ok+`x`, data),
		"second object":           stBytes(ok+`{}`, data),
		"offsets past end":        stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, data),
		"negative offset":         stBytes(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[-4,-4]}}`, data),
		"end before begin":        stBytes(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`, data),
		"three offsets":           stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, data),
		"size mismatch":           stBytes(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data),
		"dtype size mismatch":     stBytes(`{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, data),
		"negative dim":            stBytes(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, data),
		"negative dims cancel":    stBytes(`{"w":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}`, data),
		"fractional dim":          stBytes(`{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}`, data),
		"overflowing shape":       stBytes(`{"w":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, data),
		"huge dim":                stBytes(`{"w":{"dtype":"F32","shape":[1e30],"data_offsets":[0,8]}}`, data),
		"overlap":                 stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data),
		"same range twice":        stBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, data),
		"unknown dtype":           stBytes(`{"w":{"dtype":"F24","shape":[2],"data_offsets":[0,8]}}`, data),
		"dtype not a string":      stBytes(`{"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}`, data),
		"missing dtype":           stBytes(`{"w":{"shape":[2],"data_offsets":[0,8]}}`, data),
		"missing shape":           stBytes(`{"w":{"dtype":"F32","data_offsets":[0,8]}}`, data),
		"null offsets":            stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":null}}`, data),
		"tensor not an object":    stBytes(`{"w":[1,2]}`, data),
		"duplicate tensor":        stBytes(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, data),
		"metadata not strings":    stBytes(`{"__metadata__":{"a":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, data),
		"metadata twice":          stBytes(`{"__metadata__":{},"__metadata__":{},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, data),
		"packed dtype, part byte": stBytes(`{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, data),
	}
}

// TestParseSafetensorsHostile: every malformed file is an error wrapping
// ErrMalformed, with no Source and no panic.
func TestParseSafetensorsHostile(t *testing.T) {
	for name, data := range hostileST() {
		s, err := ParseSafetensors(data)
		if err == nil || s != nil {
			t.Errorf("%s: ParseSafetensors = %v, %v; want an error", name, s, err)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v does not wrap ErrMalformed", name, err)
		}
	}
}

// TestParseSafetensorsLenient: what the format allows is accepted: gaps and
// trailing bytes, tensors out of data order, header padding, no tensors.
func TestParseSafetensorsLenient(t *testing.T) {
	data := le32(1, 2, 3, 4)
	for name, file := range map[string][]byte{
		"gap and tail":  stBytes(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data),
		"padded header": stBytes(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}     `, data),
		"no tensors":    stBytes(`{}`, nil),
		"only metadata": stBytes(`{"__metadata__":{"k":"v"}}`, nil),
		"zero-size":     stBytes(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data),
		"packed dtype":  stBytes(`{"a":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}`, data),
	} {
		if _, err := ParseSafetensors(file); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	s, err := ParseSafetensors(stBytes(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("Names = %v, want header order [b a]", got)
	}
	if b, _ := s.F32("b"); len(b) != 1 || b[0] != 4 {
		t.Errorf("b = %v, want [4]", b)
	}
}

// FuzzParseSafetensors: ParseSafetensors never panics; what it accepts is
// consistent: every listed tensor has Info, and F32 gives exactly
// product(shape) values for F32/F16/BF16 and ErrUnsupported otherwise.
func FuzzParseSafetensors(f *testing.F) {
	f.Add(sampleST(8))
	f.Add(sampleST(0))
	for _, data := range hostileST() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSafetensors(data)
		if err != nil {
			if s != nil {
				t.Fatal("non-nil Source with an error")
			}
			return
		}
		for _, name := range s.Names() {
			shape, dtype, ok := s.Info(name)
			if !ok {
				t.Fatalf("listed tensor %q has no Info", name)
			}
			n := 1
			for _, d := range shape {
				if d < 0 {
					t.Fatalf("%q: negative dimension in %v", name, shape)
				}
				n *= d
			}
			v, err := s.F32(name, shape...)
			switch dtype {
			case "F32", "F16", "BF16":
				if err != nil || len(v) != n {
					t.Fatalf("%q (%s %v): %d values, %v; want %d", name, dtype, shape, len(v), err, n)
				}
			default:
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%q (%s): %v, want ErrUnsupported", name, dtype, err)
				}
			}
		}
	})
}
