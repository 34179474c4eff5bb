package telemetry

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestBucketIndex: the table lookup agrees with a plain search (the first
// bound ≥ v, sort.SearchFloat64s) on every bound, its float64 neighbours,
// every table cell's edges, zero, negatives, tiny and huge values and random
// values, for the metrics' bucket sets and odd ones; NaN and ±Inf give -1.
func TestBucketIndex(t *testing.T) {
	many := make([]float64, maxBounds) // as many bounds as there may be
	for i := range many {
		many[i] = float64(i) / 7
	}
	wide := make([]float64, 100) // 200 octaves: more than the table holds
	for i := range wide {
		wide[i] = math.Ldexp(1.5, 2*i-100)
	}
	sets := map[string][]float64{
		"entropy": entropyBuckets, "norm": normBuckets, "latency": latencyBuckets, "tokens": tokenBuckets,
		"cost": costBuckets, "test": {0.5, 1, 2.5, 4}, "one": {1}, "none": {}, "signed": {-3, -1, -0.25, 0, 0.125, 1, 7},
		"nonpositive": {-2, -1, 0}, "subnormal": {math.SmallestNonzeroFloat64, 5e-320, 1e-310, 1},
		"huge": {1, 1e300, math.MaxFloat64}, "inf": {1, 2, math.Inf(1)}, "dense": {1, 1.0000001, 1.0000002, 1.01, 1.02, 1.03, 1.5, 1.999999},
		"many": many, "wide": wide,
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for name, upper := range sets {
		x := newBucketIndex(upper)
		check := func(v float64) {
			t.Helper()
			want := sort.SearchFloat64s(upper, v)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				want = -1
			}
			if got := x.bucket(v); got != want {
				t.Fatalf("%s: bucket(%v = %#x) = %d, want %d", name, v, math.Float64bits(v), got, want)
			}
		}
		vs := []float64{0, math.Copysign(0, -1), -1, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
			math.MaxFloat64, 1e-300, 1e300, math.Inf(1), math.Inf(-1), math.NaN()}
		for _, u := range upper {
			vs = append(vs, u, math.Nextafter(u, math.Inf(-1)), math.Nextafter(u, math.Inf(1)), -u, u/2, u*2)
		}
		for c := range x.cells {
			least := math.Float64frombits((x.first + uint64(c)) << cellShift)
			vs = append(vs, least, math.Nextafter(least, math.Inf(-1)), math.Nextafter(least, math.Inf(1)))
		}
		for range 100000 {
			vs = append(vs, math.Float64frombits(rng.Uint64()))
			if len(upper) > 0 {
				lo, hi := upper[0], upper[len(upper)-1]
				vs = append(vs, lo+(hi-lo)*rng.Float64()*1.2-0.1*(hi-lo))
			}
			vs = append(vs, math.Ldexp(rng.Float64(), rng.IntN(80)-40))
		}
		for _, v := range vs {
			check(v)
		}
		if name == "entropy" {
			if x.lookup(0.3) < 0 {
				t.Errorf("entropy 0.3 is not in the table")
			}
		}
	}
}

func TestBucketIndexTooManyBounds(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for 256 bounds")
		}
	}()
	upper := make([]float64, maxBounds+1)
	for i := range upper {
		upper[i] = float64(i)
	}
	newBucketIndex(upper)
}
