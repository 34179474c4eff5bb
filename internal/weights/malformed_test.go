package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// parseErr parses data, which must be rejected with ErrMalformed.
func parseErr(t *testing.T, what string, data []byte) error {
	t.Helper()
	m, err := ParseLlama2C(data)
	if err == nil {
		t.Fatalf("%s: parsed %+v, want an error", what, m.Config)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("%s: error %v does not wrap ErrMalformed", what, err)
	}
	return err
}

// Every truncation, and any trailing byte, is an error naming both sizes.
func TestTruncated(t *testing.T) {
	for _, version := range []int{0, 1} {
		for _, shared := range []bool{true, false} {
			data := handWrite(randomModel(withShared(testConfigs[1], shared), 9), version)
			for n := range len(data) {
				err := parseErr(t, fmt.Sprintf("v%d shared=%v truncated to %d", version, shared, n), data[:n])
				hdr := 28
				if version == 1 {
					hdr = 256
				}
				if n >= hdr {
					want := fmt.Sprintf("file has %d bytes, header implies %d", n, len(data))
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("truncated to %d: %q does not say %q", n, err, want)
					}
				}
			}
			long := append(append([]byte(nil), data...), 0)
			parseErr(t, "one trailing byte", long)
		}
	}
}

// legacyHeader encodes a bare legacy header followed by pad zero bytes.
func legacyHeader(f [7]int32, pad int) []byte {
	b := make([]byte, 28+pad)
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

// Headers with nonsensical fields are rejected before any size is computed.
func TestBadHeaderFields(t *testing.T) {
	good := [7]int32{8, 12, 2, 4, 2, 10, 6}
	names := []string{"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"}
	for i := range good {
		for _, v := range []int32{0, -1, -1 << 31, MaxLlama2CField + 1, 1<<31 - 1} {
			if i == 5 && v == -1 {
				continue // a negative vocab_size is a valid flag; -1 is checked below
			}
			f := good
			f[i] = v
			err := parseErr(t, fmt.Sprintf("%s = %d", names[i], v), legacyHeader(f, 4096))
			if !strings.Contains(err.Error(), names[i]) && !strings.Contains(err.Error(), "file has") {
				t.Errorf("%s = %d: error %q names neither the field nor the size", names[i], v, err)
			}
		}
	}
	cases := []struct {
		name string
		f    [7]int32
		want string
	}{
		{"heads do not divide dim", [7]int32{10, 12, 2, 4, 2, 10, 6}, "does not divide dim"},
		{"kv heads do not divide heads", [7]int32{12, 12, 2, 4, 3, 10, 6}, "does not divide n_heads"},
		{"more kv heads than heads", [7]int32{16, 12, 2, 2, 4, 10, 6}, "does not divide n_heads"},
		{"odd head size", [7]int32{6, 12, 2, 2, 2, 10, 6}, "is odd"},
		{"negative vocab, size of shared", [7]int32{8, 12, 2, 4, 2, -10, 6}, "file has"},
		{"every field at the cap overflows int64", [7]int32{1 << 20, 1 << 20, 1 << 20, 2, 2, 1 << 20, 1 << 20}, "2^63"},
		{"huge but representable", [7]int32{1 << 16, 1 << 20, 1 << 20, 1 << 10, 1 << 10, -(1 << 20), 1 << 20}, "header implies"},
	}
	for _, c := range cases {
		err := parseErr(t, c.name, legacyHeader(c.f, 64))
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
	parseErr(t, "empty", nil)
	parseErr(t, "27 bytes", make([]byte, 27))
}

// A header claiming an enormous model is rejected without allocating for it.
func TestNoAllocationForHugeHeader(t *testing.T) {
	data := legacyHeader([7]int32{1 << 16, 1 << 20, 1 << 20, 1 << 10, 1 << 10, 1 << 20, 1 << 20}, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := ParseLlama2C(data); err == nil {
			t.Fatal("huge header parsed")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Fatalf("10 rejected parses allocated %d bytes", d)
	}
}

// Version 1 headers: wrong version, bad flag, short header, negative vocab.
func TestBadVersion1(t *testing.T) {
	good := handWrite(randomModel(withShared(testConfigs[0], true), 2), 1)
	mustParse(t, good)
	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"version 2", edit(func(b []byte) { b[4] = 2 }), "version 2 is not supported"},
		{"version 0", edit(func(b []byte) { b[4] = 0 }), "version 0 is not supported"},
		{"flag 2", edit(func(b []byte) { b[36] = 2 }), "shared_classifier flag is 2"},
		{"unshared flag, no classifier", edit(func(b []byte) { b[36] = 0 }), "file has"},
		{"negative vocab", edit(func(b []byte) { binary.LittleEndian.PutUint32(b[28:], uint32(0xfffffff6)) }), "vocab_size = -10"},
		{"short header", good[:100], "256-byte version 1 header"},
		{"magic only", good[:8], "256-byte version 1 header"},
	}
	for _, c := range cases {
		err := parseErr(t, c.name, c.data)
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}
