// Package famtest is what the model families' tests share: the PyTorch
// reference fixtures under testdata/families (written by
// testdata/gen/families.py) and an in-memory weights.Source to break
// checkpoints with. Only tests import it.
package famtest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/headlight/headlight/internal/weights"
)

// Dir is a fixture case's directory, seen from a family package
// (internal/model/<family>).
func Dir(name string) string { return filepath.Join("../../../testdata/families", name) }

// Array is one named input or output of reference.json.
type Array struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// Reference is a case's reference.json.
type Reference struct {
	Inputs, Outputs map[string]Array
}

// LoadReference reads the case's reference.json.
func LoadReference(t testing.TB, name string) *Reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(name), "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// Ints converts a reference input to ids.
func Ints(a Array) []int {
	out := make([]int, len(a.Data))
	for i, v := range a.Data {
		out[i] = int(v)
	}
	return out
}

// OpenHF opens the case's config.json and safetensors, closed at test end.
func OpenHF(t testing.TB, name string) (*weights.HFConfig, weights.Source) {
	t.Helper()
	hc, err := weights.LoadHFConfig(Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	src, err := weights.OpenHFDir(Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return hc, src
}

// MaxErr is the largest |got[i] − want[i]| (+Inf when the lengths differ).
func MaxErr(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var worst float64
	for i, w := range want {
		worst = math.Max(worst, math.Abs(float64(got[i])-w))
	}
	return worst
}

// MemSource is an in-memory weights.Source whose tensors a test can drop,
// rename or reshape.
type MemSource struct {
	names  []string
	shapes map[string][]int
	data   map[string][]float32
}

// CopySource copies every tensor of src.
func CopySource(t testing.TB, src weights.Source) *MemSource {
	t.Helper()
	m := &MemSource{shapes: map[string][]int{}, data: map[string][]float32{}}
	for _, n := range src.Names() {
		shape, _, _ := src.Info(n)
		x, err := src.F32(n)
		if err != nil {
			t.Fatal(err)
		}
		m.names = append(m.names, n)
		m.shapes[n], m.data[n] = shape, slices.Clone(x)
	}
	return m
}

func (m *MemSource) Names() []string { return slices.Clone(m.names) }

func (m *MemSource) Info(name string) ([]int, string, bool) {
	s, ok := m.shapes[name]
	return s, "F32", ok
}

func (m *MemSource) F32(name string, want ...int) ([]float32, error) {
	s, ok := m.shapes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", weights.ErrNoTensor, name)
	}
	if len(want) > 0 && !slices.Equal(s, want) {
		return nil, fmt.Errorf("%w: tensor %q has shape %v, want %v", weights.ErrShape, name, s, want)
	}
	return m.data[name], nil
}

func (m *MemSource) Close() error { return nil }

// Drop removes a tensor.
func (m *MemSource) Drop(name string) {
	delete(m.shapes, name)
	delete(m.data, name)
	m.names = slices.DeleteFunc(m.names, func(n string) bool { return n == name })
}

// Rename moves a tensor to another name.
func (m *MemSource) Rename(from, to string) {
	m.shapes[to], m.data[to] = m.shapes[from], m.data[from]
	m.Drop(from)
	m.names = append(m.names, to)
}

// Put adds or replaces a tensor.
func (m *MemSource) Put(name string, shape []int, x []float32) {
	if _, ok := m.shapes[name]; !ok {
		m.names = append(m.names, name)
	}
	m.shapes[name], m.data[name] = shape, x
}

// Shape and Data return a tensor's shape and values (nil when absent).
func (m *MemSource) Shape(name string) []int    { return m.shapes[name] }
func (m *MemSource) Data(name string) []float32 { return m.data[name] }

// Reshape changes a tensor's recorded shape (not its data).
func (m *MemSource) Reshape(name string, shape ...int) { m.shapes[name] = shape }
