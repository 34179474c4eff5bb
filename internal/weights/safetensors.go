package weights

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/headlight/headlight/internal/kernels"
)

// Safetensors is a Source over one safetensors file or the shards of a
// Hugging Face checkpoint directory, memory-mapped (see ParseSafetensors for
// the format and the checks). Tensor names are unique across shards.
//
// F32 tensors are returned as views of the mapping when the host is
// little-endian and the data 4-byte aligned (callers must not write to them;
// the mapping is read-only), otherwise as copies; F16 and BF16 are widened
// into new slices. Other dtypes are listed by Names and Info, and F32 returns
// an error wrapping ErrUnsupported for them.
//
// The methods other than Close are safe for concurrent use; Close must not
// run concurrently with them, and slices that alias the file are invalid
// after it.
type Safetensors struct {
	names    []string // file order: shards in name order, header order within
	tensors  map[string]stTensor
	metadata map[string]string // "__metadata__" of the (first) file
	closers  []io.Closer
	closed   bool
}

var _ Source = (*Safetensors)(nil)

// OpenSafetensors memory-maps and validates one .safetensors file.
func OpenSafetensors(path string) (*Safetensors, error) {
	s := &Safetensors{tensors: map[string]stTensor{}}
	if err := s.openShard(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenHFDir opens the weights of a Hugging Face checkpoint directory as one
// Source: the shards named by model.safetensors.index.json's weight_map if
// that file exists, otherwise model.safetensors. Shard names must be plain
// file names inside dir; every tensor of the weight map must be in the shard
// it names, and no tensor may be in two shards.
func OpenHFDir(dir string) (*Safetensors, error) {
	index := filepath.Join(dir, "model.safetensors.index.json")
	raw, err := os.ReadFile(index)
	if errors.Is(err, fs.ErrNotExist) {
		return OpenSafetensors(filepath.Join(dir, "model.safetensors"))
	}
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, index, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%w: %s: empty weight_map", ErrMalformed, index)
	}
	var shards []string
	for _, file := range idx.WeightMap {
		if file == "" || file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("%w: %s: shard %q is not a file name in the directory", ErrMalformed, index, file)
		}
		if !slices.Contains(shards, file) {
			shards = append(shards, file)
		}
	}
	slices.Sort(shards)
	s := &Safetensors{tensors: map[string]stTensor{}}
	for _, file := range shards {
		if err := s.openShard(filepath.Join(dir, file)); err != nil {
			s.Close()
			return nil, err
		}
	}
	for name, file := range idx.WeightMap {
		if t, ok := s.tensors[name]; !ok || t.file != file {
			s.Close()
			return nil, fmt.Errorf("%w: %s: tensor %q is not in shard %q", ErrMalformed, index, name, file)
		}
	}
	return s, nil
}

// openShard maps, parses and adds one file.
func (s *Safetensors) openShard(path string) error {
	data, closer, err := mapFile(path)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, closer)
	f, err := parseSTFile(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if s.metadata == nil {
		s.metadata = f.metadata
	}
	return s.add(f, filepath.Base(path))
}

// add merges the tensors of f (from the file named file) into s.
func (s *Safetensors) add(f *stFile, file string) error {
	for _, name := range f.names {
		if prev, dup := s.tensors[name]; dup {
			return fmt.Errorf("%w: safetensors: tensor %q is in both %s and %s", ErrMalformed, name, prev.file, file)
		}
		t := f.tensors[name]
		t.file = file
		s.tensors[name] = t
		s.names = append(s.names, name)
	}
	return nil
}

// Names lists the tensors: shards in file-name order, each in header order.
func (s *Safetensors) Names() []string { return slices.Clone(s.names) }

// Metadata returns the "__metadata__" strings of the file (of the first
// shard for a sharded checkpoint), or nil.
func (s *Safetensors) Metadata() map[string]string {
	out := make(map[string]string, len(s.metadata))
	for k, v := range s.metadata {
		out[k] = v
	}
	return out
}

// Info returns a tensor's shape (PyTorch order) and dtype name ("F32",
// "F16", "BF16", "I64", …).
func (s *Safetensors) Info(name string) ([]int, string, bool) {
	t, ok := s.tensors[name]
	if !ok {
		return nil, "", false
	}
	return slices.Clone(t.shape), t.dtype, true
}

// F32 returns the tensor as float32 in row-major PyTorch order, checking
// its shape against want when want is given (see Safetensors for aliasing).
func (s *Safetensors) F32(name string, want ...int) ([]float32, error) {
	if s.closed {
		return nil, fmt.Errorf("weights: safetensors: F32(%q) after Close", name)
	}
	t, ok := s.tensors[name]
	if !ok {
		return nil, noTensor(name)
	}
	if err := checkShape(name, t.shape, want); err != nil {
		return nil, err
	}
	switch t.dtype {
	case "F32":
		return asFloat32s(t.data, canAlias(t.data)), nil
	case "F16", "BF16":
		widen := kernels.F16ToF32
		if t.dtype == "BF16" {
			widen = kernels.BF16ToF32
		}
		out := make([]float32, len(t.data)/2)
		for i := range out {
			out[i] = widen(binary.LittleEndian.Uint16(t.data[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q has unsupported dtype %s", ErrUnsupported, name, t.dtype)
}

// Close unmaps the files. Closing twice is harmless.
func (s *Safetensors) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	s.closed = true
	return errors.Join(errs...)
}
