package weights

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// The two llama2.c float32 layouts (see llama2.c's export.py):
//
// Legacy (legacy_export): 7 little-endian int32 (dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size, seq_len; vocab_size < 0 means a separate
// classifier), then token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2,
// w3, rms_final, freq_cis_real, freq_cis_imag, then wcls if not shared.
//
// Version 1 (version1_export): uint32 magic "ak42" (0x616b3432), int32
// version = 1, the same 7 int32 (vocab_size positive), uint8
// shared_classifier, zero padding to 256 bytes; then rms_att, rms_ffn,
// rms_final, token_embedding, wq, wk, wv, wo, w1, w2, w3, then wcls if not
// shared. There is no freq_cis table.
//
// Version 2 (int8 Q8_0) is rejected with an error.
const (
	llama2cLegacyHeader = 7 * 4
	llama2cV1Header     = 256
	llama2cMagic        = 0x616b3432
)

// tensorSlot is one tensor of a layout, in file order.
type tensorSlot struct {
	name string
	dst  *[]float32 // nil: stored in the file but not kept (freq_cis)
	n    int64      // element count
}

// llama2cLayout lists the tensors of a file of the given version in file
// order, pointing at m's fields.
func llama2cLayout(m *Llama2C, s llama2cSizes, version int) []tensorSlot {
	var l []tensorSlot
	if version == 0 {
		l = []tensorSlot{
			{"token_embedding", &m.TokenEmbedding, s.tok},
			{"rms_att", &m.RMSAtt, s.rmsAtt},
			{"wq", &m.WQ, s.wq},
			{"wk", &m.WK, s.wk},
			{"wv", &m.WV, s.wv},
			{"wo", &m.WO, s.wo},
			{"rms_ffn", &m.RMSFFN, s.rmsFFN},
			{"w1", &m.W1, s.w1},
			{"w2", &m.W2, s.w2},
			{"w3", &m.W3, s.w3},
			{"rms_final", &m.RMSFinal, s.rmsFinal},
			{"freq_cis_real", nil, s.freq},
			{"freq_cis_imag", nil, s.freq},
		}
	} else {
		l = []tensorSlot{
			{"rms_att", &m.RMSAtt, s.rmsAtt},
			{"rms_ffn", &m.RMSFFN, s.rmsFFN},
			{"rms_final", &m.RMSFinal, s.rmsFinal},
			{"token_embedding", &m.TokenEmbedding, s.tok},
			{"wq", &m.WQ, s.wq},
			{"wk", &m.WK, s.wk},
			{"wv", &m.WV, s.wv},
			{"wo", &m.WO, s.wo},
			{"w1", &m.W1, s.w1},
			{"w2", &m.W2, s.w2},
			{"w3", &m.W3, s.w3},
		}
	}
	if !m.Config.SharedClassifier {
		l = append(l, tensorSlot{"wcls", &m.WCls, s.wcls})
	}
	return l
}

// ParseLlama2C reads a checkpoint held in memory (e.g. an embedded file). The
// returned slices may alias data: data must outlive them and not change.
// The size of data must be exactly what the header implies.
func ParseLlama2C(data []byte) (*Llama2C, error) {
	cfg, version, hdr, err := parseLlama2CHeader(data)
	if err != nil {
		return nil, err
	}
	s, err := cfg.sizes()
	if err != nil {
		return nil, err
	}
	m := &Llama2C{Config: cfg, Version: version}
	layout := llama2cLayout(m, s, version)
	var total int64
	ovf := false
	for _, t := range layout {
		total, ovf = addCheck(total, t.n, ovf)
	}
	total, ovf = mulCheck(total, 4, ovf)
	total, ovf = addCheck(total, int64(hdr), ovf)
	if ovf {
		return nil, fmt.Errorf("%w: file has %d bytes, header %+v implies more than 2^63", ErrMalformed, len(data), cfg)
	}
	if total != int64(len(data)) {
		return nil, fmt.Errorf("%w: file has %d bytes, header implies %d (llama2.c version %d, %+v)",
			ErrMalformed, len(data), total, version, cfg)
	}
	floats := asFloat32s(data[hdr:], canAlias(data[hdr:]))
	var off int64
	for _, t := range layout {
		if t.dst != nil {
			*t.dst = floats[off : off+t.n : off+t.n]
		}
		off += t.n
	}
	if cfg.SharedClassifier {
		m.WCls = m.TokenEmbedding
	}
	return m, nil
}

// parseLlama2CHeader decodes and validates the header, returning the config,
// the format version (0 legacy, 1) and the header size in bytes.
func parseLlama2CHeader(data []byte) (Llama2CConfig, int, int, error) {
	le := binary.LittleEndian
	if len(data) >= 8 && le.Uint32(data) == llama2cMagic {
		if v := int32(le.Uint32(data[4:])); v != 1 {
			return Llama2CConfig{}, 0, 0, fmt.Errorf("%w: llama2.c version %d is not supported (legacy and version 1 float32 are)",
				ErrMalformed, v)
		}
		if len(data) < llama2cV1Header {
			return Llama2CConfig{}, 0, 0, fmt.Errorf("%w: file has %d bytes, shorter than the %d-byte version 1 header",
				ErrMalformed, len(data), llama2cV1Header)
		}
		flag := data[8+llama2cLegacyHeader]
		if flag > 1 {
			return Llama2CConfig{}, 0, 0, fmt.Errorf("%w: shared_classifier flag is %d, want 0 or 1", ErrMalformed, flag)
		}
		cfg := headerFields(data[8:])
		cfg.SharedClassifier = flag == 1
		if err := cfg.Validate(); err != nil {
			return Llama2CConfig{}, 0, 0, err
		}
		return cfg, 1, llama2cV1Header, nil
	}
	if len(data) < llama2cLegacyHeader {
		return Llama2CConfig{}, 0, 0, fmt.Errorf("%w: file has %d bytes, shorter than the %d-byte llama2.c header",
			ErrMalformed, len(data), llama2cLegacyHeader)
	}
	cfg := headerFields(data)
	// A negative vocab_size flags a separate classifier. math.MinInt32 has no
	// positive counterpart; it is out of range either way.
	cfg.SharedClassifier = cfg.VocabSize > 0
	if cfg.VocabSize < 0 && cfg.VocabSize > math.MinInt32 {
		cfg.VocabSize = -cfg.VocabSize
	}
	if err := cfg.Validate(); err != nil {
		return Llama2CConfig{}, 0, 0, err
	}
	return cfg, 0, llama2cLegacyHeader, nil
}

// headerFields decodes the 7 little-endian int32 fields at the start of b.
func headerFields(b []byte) Llama2CConfig {
	f := func(i int) int { return int(int32(binary.LittleEndian.Uint32(b[4*i:]))) }
	return Llama2CConfig{
		Dim: f(0), HiddenDim: f(1), Layers: f(2), Heads: f(3),
		KVHeads: f(4), VocabSize: f(5), SeqLen: f(6),
	}
}

// littleEndianHost reports that float32 values in memory have the file's
// byte order, so that file bytes can be reinterpreted in place.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// canAlias reports that b can be reinterpreted as []float32 in place: the
// host is little-endian and b starts on a 4-byte boundary.
func canAlias(b []byte) bool {
	return littleEndianHost && len(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4 == 0
}

// asFloat32s returns the len(b)/4 little-endian float32 values in b: a view
// of b's memory when alias is true (see canAlias), else a decoded copy.
func asFloat32s(b []byte, alias bool) []float32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if alias {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// OpenLlama2C memory-maps a file and parses it; Close unmaps. The tensors
// alias the read-only mapping (see Llama2C): do not write to them, and do
// not use them after Close. On platforms without mmap support the file is
// read into memory and Close is a no-op. The file must not be truncated
// while it is mapped.
func OpenLlama2C(path string) (*Llama2C, io.Closer, error) {
	data, closer, err := mapFile(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := ParseLlama2C(data)
	if err != nil {
		closer.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, closer, nil
}
