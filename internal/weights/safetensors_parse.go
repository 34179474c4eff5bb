package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// MaxSafetensorsHeader is the largest JSON header ParseSafetensors accepts
// (the reference implementation's limit is the same 100 MB).
const MaxSafetensorsHeader = 100 << 20

// stBits is the storage size in bits of each safetensors dtype name (the
// sub-byte float types pack several values per byte; a tensor of them must
// fill whole bytes). ParseSafetensors rejects dtypes not listed here, as the
// size of their data could not be checked.
var stBits = map[string]int64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// stEntry is one tensor of a header as JSON gives it.
type stEntry struct {
	Dtype       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// stTensor is one validated tensor: data is its bytes inside the file.
type stTensor struct {
	dtype string
	shape []int
	data  []byte
	file  string // base name of the file that holds it (error messages, shard checks)
}

// stFile is one parsed safetensors file.
type stFile struct {
	names    []string // header order
	tensors  map[string]stTensor
	metadata map[string]string
}

// ParseSafetensors validates a whole safetensors file held in memory and
// returns it as a Source whose tensors alias data (Close is a no-op). The
// layout is an 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
// {string: string}}, then the data; offsets count from the end of the header.
//
// Every field is checked before anything is sliced: the header fits in the
// file and in MaxSafetensorsHeader, the JSON is one object without duplicate
// names, every dtype is known, dimensions are non-negative and their product
// does not overflow, each tensor's byte count is exactly elements × dtype
// size, its range lies inside the data and no two ranges overlap. Gaps
// between tensors are allowed. Errors wrap ErrMalformed; nothing panics.
func ParseSafetensors(data []byte) (*Safetensors, error) {
	f, err := parseSTFile(data)
	if err != nil {
		return nil, err
	}
	s := &Safetensors{tensors: map[string]stTensor{}, metadata: f.metadata}
	if err := s.add(f, "memory"); err != nil {
		return nil, err
	}
	return s, nil
}

// parseSTFile is ParseSafetensors for one file.
func parseSTFile(data []byte) (*stFile, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: safetensors: %d bytes, need at least the 8-byte header length", ErrMalformed, len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	switch {
	case n > MaxSafetensorsHeader:
		return nil, fmt.Errorf("%w: safetensors: header length %d exceeds the %d-byte limit", ErrMalformed, n, MaxSafetensorsHeader)
	case n > uint64(len(data)-8):
		return nil, fmt.Errorf("%w: safetensors: header length %d but only %d bytes follow", ErrMalformed, n, len(data)-8)
	}
	header, body := data[8:8+n], data[8+n:]
	f := &stFile{tensors: map[string]stTensor{}}
	entries, err := decodeSTHeader(header, f)
	if err != nil {
		return nil, err
	}
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(entries))
	for _, name := range f.names {
		t, begin, end, err := checkSTEntry(name, entries[name], int64(len(body)))
		if err != nil {
			return nil, err
		}
		t.data = body[begin:end]
		f.tensors[name] = t
		spans = append(spans, span{name, begin, end})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	for i := 1; i < len(spans); i++ {
		if p, c := spans[i-1], spans[i]; c.begin < p.end {
			return nil, fmt.Errorf("%w: safetensors: tensor %q bytes [%d, %d) overlap %q [%d, %d)",
				ErrMalformed, c.name, c.begin, c.end, p.name, p.begin, p.end)
		}
	}
	return f, nil
}

// decodeSTHeader reads the header object key by key (to catch duplicate
// names, which encoding/json would silently merge), fills f.names and
// f.metadata, and returns the raw tensor entries.
func decodeSTHeader(header []byte, f *stFile) (map[string]stEntry, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: safetensors header: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad("not a JSON object")
	}
	entries := map[string]stEntry{}
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("%v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, bad("key %v is not a string", tok)
		}
		if name == "__metadata__" {
			if seenMeta {
				return nil, bad("duplicate __metadata__")
			}
			seenMeta = true
			if err := dec.Decode(&f.metadata); err != nil {
				return nil, bad("__metadata__ is not an object of strings: %v", err)
			}
			continue
		}
		if _, dup := entries[name]; dup {
			return nil, bad("duplicate tensor %q", name)
		}
		var e stEntry
		if err := dec.Decode(&e); err != nil {
			return nil, bad("tensor %q: %v", name, err)
		}
		entries[name] = e
		f.names = append(f.names, name)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad("unterminated object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad("data after the header object")
	}
	return entries, nil
}

// checkSTEntry validates one header entry against a data section of
// bodyLen bytes and returns the tensor (without data) and its byte range.
func checkSTEntry(name string, e stEntry, bodyLen int64) (stTensor, int64, int64, error) {
	bad := func(format string, args ...any) (stTensor, int64, int64, error) {
		return stTensor{}, 0, 0, fmt.Errorf("%w: safetensors: tensor %q: %s", ErrMalformed, name, fmt.Sprintf(format, args...))
	}
	if e.Dtype == nil || e.Shape == nil || e.DataOffsets == nil {
		return bad("needs dtype, shape and data_offsets")
	}
	bits, ok := stBits[*e.Dtype]
	if !ok {
		return bad("unknown dtype %q", *e.Dtype)
	}
	if len(*e.DataOffsets) != 2 {
		return bad("data_offsets has %d values, want 2", len(*e.DataOffsets))
	}
	begin, end := (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	if begin < 0 || end < begin || end > bodyLen {
		return bad("data_offsets [%d, %d] outside the %d data bytes", begin, end, bodyLen)
	}
	shape := make([]int, len(*e.Shape))
	elems := int64(1)
	for i, d := range *e.Shape {
		if d < 0 || d > math.MaxInt32 {
			return bad("dimension %d is %d", i, d)
		}
		shape[i] = int(d)
		if d != 0 && elems > math.MaxInt64/64/d { // elems × bits must fit too
			return bad("shape %v overflows", *e.Shape)
		}
		elems *= d
	}
	if elems*bits%8 != 0 {
		return bad("%d elements of %s do not fill whole bytes", elems, *e.Dtype)
	}
	if size := elems * bits / 8; end-begin != size {
		return bad("shape %v of %s needs %d bytes, data_offsets give %d", *e.Shape, *e.Dtype, size, end-begin)
	}
	return stTensor{dtype: *e.Dtype, shape: shape}, begin, end, nil
}
