package weights

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Encoding of GGUF metadata values for GGUFWriter.

// ggufTypeOf returns the GGUF type of v, with slices wrapped as GGUFArray,
// checking GGUFArray values against their element type.
func ggufTypeOf(v any, depth int) (GGUFValueType, any, error) {
	switch x := v.(type) {
	case uint8:
		return GGUFUint8, x, nil
	case int8:
		return GGUFInt8, x, nil
	case uint16:
		return GGUFUint16, x, nil
	case int16:
		return GGUFInt16, x, nil
	case uint32:
		return GGUFUint32, x, nil
	case int32:
		return GGUFInt32, x, nil
	case float32:
		return GGUFFloat32, x, nil
	case bool:
		return GGUFBool, x, nil
	case string:
		return GGUFString, x, nil
	case uint64:
		return GGUFUint64, x, nil
	case int64:
		return GGUFInt64, x, nil
	case float64:
		return GGUFFloat64, x, nil
	case GGUFArray:
		if depth >= ggufMaxArrayDepth {
			return 0, nil, fmt.Errorf("arrays nested deeper than %d", ggufMaxArrayDepth)
		}
		if nested, ok := x.Values.([]GGUFArray); ok && x.Elem == GGUFArrayT {
			for _, a := range nested {
				if _, _, err := ggufTypeOf(a, depth+1); err != nil {
					return 0, nil, err
				}
			}
			return GGUFArrayT, x, nil
		}
		if x.Elem == GGUFArrayT || x.Values == nil {
			return 0, nil, fmt.Errorf("array values %T do not match element type %v", x.Values, x.Elem)
		}
		if elem, _, err := ggufTypeOf(sliceElem(x.Values), depth); err != nil || elem != x.Elem {
			return 0, nil, fmt.Errorf("array values %T do not match element type %v", x.Values, x.Elem)
		}
		return GGUFArrayT, x, nil
	}
	if e := sliceElem(v); e != nil {
		elem, _, err := ggufTypeOf(e, depth)
		if err != nil || elem == GGUFArrayT {
			return 0, nil, fmt.Errorf("unsupported value type %T", v)
		}
		return GGUFArrayT, GGUFArray{Elem: elem, Values: v}, nil
	}
	return 0, nil, fmt.Errorf("unsupported value type %T", v)
}

// sliceElem returns the zero element of a supported slice type, or nil.
func sliceElem(v any) any {
	switch v.(type) {
	case []uint8:
		return uint8(0)
	case []int8:
		return int8(0)
	case []uint16:
		return uint16(0)
	case []int16:
		return int16(0)
	case []uint32:
		return uint32(0)
	case []int32:
		return int32(0)
	case []float32:
		return float32(0)
	case []bool:
		return false
	case []string:
		return ""
	case []uint64:
		return uint64(0)
	case []int64:
		return int64(0)
	case []float64:
		return float64(0)
	}
	return nil
}

// appendGGUFString appends a length-prefixed string.
func appendGGUFString(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint64(b, uint64(len(s))), s...)
}

// appendGGUFValue appends a value already checked by ggufTypeOf.
func appendGGUFValue(b []byte, v any) []byte {
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case string:
		return appendGGUFString(b, x)
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	case GGUFArray:
		b = le.AppendUint32(b, uint32(x.Elem))
		return appendGGUFArray(b, x.Values)
	}
	panic(fmt.Sprintf("weights.appendGGUFValue: unchecked type %T", v))
}

// appendGGUFArray appends an array's count and elements.
func appendGGUFArray(b []byte, vals any) []byte {
	each := func(n int, at func(int) any) []byte {
		b = binary.LittleEndian.AppendUint64(b, uint64(n))
		for i := range n {
			b = appendGGUFValue(b, at(i))
		}
		return b
	}
	switch x := vals.(type) {
	case []uint8:
		return each(len(x), func(i int) any { return x[i] })
	case []int8:
		return each(len(x), func(i int) any { return x[i] })
	case []uint16:
		return each(len(x), func(i int) any { return x[i] })
	case []int16:
		return each(len(x), func(i int) any { return x[i] })
	case []uint32:
		return each(len(x), func(i int) any { return x[i] })
	case []int32:
		return each(len(x), func(i int) any { return x[i] })
	case []float32:
		return each(len(x), func(i int) any { return x[i] })
	case []bool:
		return each(len(x), func(i int) any { return x[i] })
	case []string:
		return each(len(x), func(i int) any { return x[i] })
	case []uint64:
		return each(len(x), func(i int) any { return x[i] })
	case []int64:
		return each(len(x), func(i int) any { return x[i] })
	case []float64:
		return each(len(x), func(i int) any { return x[i] })
	case []GGUFArray:
		return each(len(x), func(i int) any { return x[i] })
	}
	panic(fmt.Sprintf("weights.appendGGUFArray: unchecked type %T", vals))
}
