package llama_test

import (
	"math"
	"testing"

	"github.com/headlight/headlight/internal/attention"
	"github.com/headlight/headlight/internal/model"
	"github.com/headlight/headlight/internal/tensor"
)

type keepStats struct{ st map[int]attention.Stats }

func (k *keepStats) ObserveAttention(l int, st *attention.Stats) {
	c := *st
	c.Entropy = append([]float32(nil), st.Entropy...)
	c.MaxWeight = append([]float32(nil), st.MaxWeight...)
	c.Attended = append([]int32(nil), st.Attended...)
	k.st[l] = c
}

// TestProbeAgreesWithMaps: in the real model, the fused kernel's per-head
// statistics equal entropy and max weight computed from the explicit maps of
// every head of every layer, and each query attends to exactly its prefix.
func TestProbeAgreesWithMaps(t *testing.T) {
	ref := loadReference(t)
	m := stories(t, 2)
	cfg := m.Config()
	toks := ref.Tokens[:40]
	n := len(toks)
	st := model.NewState(cfg, 1, n, tensor.F32)
	probe := &keepStats{st: map[int]attention.Stats{}}
	st.Probe = probe
	all := make([]attention.HeadRef, cfg.Heads)
	for h := range all {
		all[h] = attention.HeadRef{Head: h}
	}
	maps := map[int][][]float32{}
	st.Capture = func(int) []attention.HeadRef { return all }
	st.OnMaps = func(l int, _ []attention.HeadRef, mp [][]float32) { maps[l] = mp }
	if _, err := m.Forward(st, toks, n, nil, true); err != nil {
		t.Fatal(err)
	}
	if len(probe.st) != cfg.Layers || len(maps) != cfg.Layers {
		t.Fatalf("probe saw %d layers, maps %d, want %d", len(probe.st), len(maps), cfg.Layers)
	}
	for l := 0; l < cfg.Layers; l++ {
		s := probe.st[l]
		for h := 0; h < cfg.Heads; h++ {
			for i := 0; i < n; i++ {
				row := maps[l][h][i*n : (i+1)*n]
				var ent, mx float64
				for _, p := range row {
					if p > 0 {
						ent -= float64(p) * math.Log(float64(p))
					}
					mx = math.Max(mx, float64(p))
				}
				ri := h*n + i
				if d := math.Abs(ent - float64(s.Entropy[ri])); d > 1e-4 {
					t.Fatalf("layer %d head %d query %d: entropy %v from stats, %v from map", l, h, i, s.Entropy[ri], ent)
				}
				if d := math.Abs(mx - float64(s.MaxWeight[ri])); d > 1e-5 {
					t.Fatalf("layer %d head %d query %d: max weight %v vs %v", l, h, i, s.MaxWeight[ri], mx)
				}
				if int(s.Attended[ri]) != i+1 {
					t.Fatalf("layer %d head %d query %d attended %d keys, want %d (causal)", l, h, i, s.Attended[ri], i+1)
				}
			}
		}
	}
}
