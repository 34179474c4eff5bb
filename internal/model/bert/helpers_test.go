package bert

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/kernels"
	"github.com/headlight/headlight/internal/weights"
)

const fixtureDir = "../../../testdata/families/bert"

// array is one named input or output of reference.json.
type array struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type reference struct {
	Inputs, Outputs map[string]array
}

func loadReference(t *testing.T) *reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// ints converts a reference input to ids.
func ints(a array) []int {
	out := make([]int, len(a.Data))
	for i, v := range a.Data {
		out[i] = int(v)
	}
	return out
}

// fixtureInput is the reference batch: ids, types and lengths from the mask.
func fixtureInput(r *reference) EncodeInput {
	ids := r.Inputs["input_ids"]
	B, S := ids.Shape[0], ids.Shape[1]
	lens := make([]int, B)
	for i, v := range r.Inputs["attention_mask"].Data {
		if v != 0 {
			lens[i/S]++
		}
	}
	return EncodeInput{Tokens: ints(ids), TypeIDs: ints(r.Inputs["token_type_ids"]), Batch: B, Seq: S, Lens: lens}
}

func openFixture(t *testing.T) (*weights.HFConfig, weights.Source) {
	t.Helper()
	hc, err := weights.LoadHFConfig(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := weights.OpenHFDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return hc, src
}

func engine() *attention.Engine { return attention.NewEngine(kernels.NewPool(3)) }

func loadModel(t *testing.T) *Model {
	t.Helper()
	hc, src := openFixture(t)
	m, err := FromHF(hc, src, engine())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// maxErr is the largest |got[i] − want[i]|.
func maxErr(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var worst float64
	for i, w := range want {
		worst = math.Max(worst, math.Abs(float64(got[i])-w))
	}
	return worst
}

// memSource is an in-memory weights.Source whose tensors a test can drop,
// rename or reshape.
type memSource struct {
	names  []string
	shapes map[string][]int
	data   map[string][]float32
}

func copySource(t *testing.T, src weights.Source) *memSource {
	t.Helper()
	m := &memSource{shapes: map[string][]int{}, data: map[string][]float32{}}
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

func (m *memSource) Names() []string { return slices.Clone(m.names) }

func (m *memSource) Info(name string) ([]int, string, bool) {
	s, ok := m.shapes[name]
	return s, "F32", ok
}

func (m *memSource) F32(name string, want ...int) ([]float32, error) {
	s, ok := m.shapes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", weights.ErrNoTensor, name)
	}
	if len(want) > 0 && !slices.Equal(s, want) {
		return nil, fmt.Errorf("%w: tensor %q has shape %v, want %v", weights.ErrShape, name, s, want)
	}
	return m.data[name], nil
}

func (m *memSource) Close() error { return nil }

func (m *memSource) drop(name string) {
	delete(m.shapes, name)
	delete(m.data, name)
	m.names = slices.DeleteFunc(m.names, func(n string) bool { return n == name })
}

func (m *memSource) rename(from, to string) {
	m.shapes[to], m.data[to] = m.shapes[from], m.data[from]
	m.drop(from)
	m.names = append(m.names, to)
}
