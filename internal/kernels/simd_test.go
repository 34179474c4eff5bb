package kernels

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

// forEachImpl runs f once per kernel path this machine has (see
// implsAvailable), as a subtest named after the path, and restores impl.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := impl
	defer func() { impl = saved }()
	for _, k := range implsAvailable() {
		impl = k
		t.Run(k.String(), f)
	}
}

func TestImplsAvailable(t *testing.T) {
	ks := implsAvailable()
	if ks[0] != implGo {
		t.Fatalf("implsAvailable() = %v, want the twins first", ks)
	}
	if bestImpl() != ks[len(ks)-1] {
		t.Errorf("start-up path %v is not the best available %v", bestImpl(), ks)
	}
	t.Logf("kernel paths on this machine: %v (default %v)", ks, Impl())
}

// fma32 returns a*b + c rounded once to float32, computed exactly with
// big.Float (independent of any hardware FMA).
func fma32(a, b, c float32) float32 {
	p := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	p.Mul(p, new(big.Float).SetFloat64(float64(b)))
	p.Add(p, new(big.Float).SetFloat64(float64(c)))
	f, _ := p.Float32()
	if f == 0 { // big.Float has no signed zero rules of IEEE sums
		return float32(float64(a)*float64(b) + float64(c))
	}
	return f
}

// hsum8 is the documented reduction of 8 lanes.
func hsum8(l [8]float32) float32 {
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

// dotLanesAVX2 is the documented order of the AVX2 Dot, written out
// independently with exact FMAs.
func dotLanesAVX2(x, y []float32) float32 {
	var acc [4][8]float32
	n := len(x)
	for i := 0; i < n; i++ {
		q := 1 // the last n%8
		switch {
		case i < n&^31:
			q = (i / 8) % 4
		case i < n&^7:
			q = 0
		}
		acc[q][i%8] = fma32(x[i], y[i], acc[q][i%8])
	}
	if n%8 != 0 { // masked lanes add 0·0
		for l := n % 8; l < 8; l++ {
			acc[1][l] = fma32(0, 0, acc[1][l])
		}
	}
	var s [8]float32
	for l := range s {
		s[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l])
	}
	return hsum8(s)
}

// gemmLanesAVX2 is the documented per-element order of the AVX2
// MatMulTransB (without bias): one 8-lane accumulator, exact FMAs.
func gemmLanesAVX2(x, y []float32) float32 {
	var acc [8]float32
	k := len(x)
	for p := 0; p < k; p++ {
		acc[p%8] = fma32(x[p], y[p], acc[p%8])
	}
	if k%8 != 0 {
		for l := k % 8; l < 8; l++ {
			acc[l] = fma32(0, 0, acc[l])
		}
	}
	return hsum8(acc)
}

func TestFMA32(t *testing.T) {
	// a·b + c = 2^24 + 3 − 2^-36: one rounding gives 2^24 + 2; rounding to
	// float64 first would make a tie and round to 2^24 + 4.
	a, b, c := float32(1+0x1p-18), float32(1-0x1p-18), float32(0x1p24+2)
	if got, want := fma32(a, b, c), float32(0x1p24+2); got != want {
		t.Errorf("fma32 = %v, want %v", got, want)
	}
	if twice := float32(math.FMA(float64(a), float64(b), float64(c))); twice != 0x1p24+4 {
		t.Errorf("double rounding gives %v: the case above tests nothing", twice)
	}
	if got := fma32(0, 0, float32(math.Copysign(0, -1))); math.Signbit(float64(got)) {
		t.Errorf("fma32(0, 0, -0) = -0, want +0")
	}
}

func TestUse(t *testing.T) {
	saved := impl
	defer func() { impl = saved }()
	for _, name := range Impls() {
		if err := Use(name); err != nil || Impl() != name {
			t.Errorf("Use(%q) = %v, Impl() = %q", name, err, Impl())
		}
	}
	if err := Use("avx1024"); err == nil {
		t.Error(`Use("avx1024") = nil, want an error naming the available paths`)
	} else if got := err.Error(); !strings.Contains(got, "available: go") {
		t.Errorf("Use error %q does not list the available paths", got)
	}
}
