package kernels

import (
	"fmt"
	"os"
	"strings"
)

// implKind names one implementation of the kernels: the pure-Go twins or a
// SIMD path. The path is chosen once at start-up (impl); tests switch impl to
// run every path the machine has (implsAvailable).
//
// The paths nest: implAVX512 runs the AVX-512 kernels where there are some
// (zmm register tiles, 16-lane softmax) and the AVX2 kernels everywhere else,
// so every check for "a SIMD path" is impl.simd(), and only the kernels with
// a zmm version ask for implAVX512 itself.
type implKind uint8

const (
	implGo     implKind = iota // pure-Go twins, every platform
	implAVX2                   // amd64 AVX2+FMA (not with the purego tag)
	implAVX512                 // amd64 AVX-512 F/VL/BW/DQ on top of AVX2+FMA
)

func (k implKind) String() string {
	switch k {
	case implAVX2:
		return "avx2"
	case implAVX512:
		return "avx512"
	default:
		return "go"
	}
}

// simd reports whether k runs the assembly kernels (AVX2 or AVX-512).
func (k implKind) simd() bool { return k >= implAVX2 }

// impl is the implementation every kernel uses. It is written only at
// start-up (bestImpl, or HEADLIGHT_KERNELS through Use) and by tests, never
// while a kernel runs.
var impl = startImpl()

func bestImpl() implKind {
	switch {
	case haveAVX512:
		return implAVX512
	case haveAVX2:
		return implAVX2
	}
	return implGo
}

// envErr is why HEADLIGHT_KERNELS was not followed (see EnvError).
var envErr error

// startImpl is bestImpl unless the environment variable HEADLIGHT_KERNELS
// names another available path (for A/B runs of one binary). A name that is
// unknown or unavailable here leaves bestImpl and sets envErr, which
// commands report and stop on.
func startImpl() implKind {
	if name := os.Getenv("HEADLIGHT_KERNELS"); name != "" {
		k, err := parseImpl(name)
		if err == nil {
			return k
		}
		envErr = fmt.Errorf("HEADLIGHT_KERNELS: %w", err)
	}
	return bestImpl()
}

// EnvError is the error of an unusable HEADLIGHT_KERNELS setting, nil when
// it is unset or names an available path.
func EnvError() error { return envErr }

// implsAvailable lists the paths this machine can run, twin first.
func implsAvailable() []implKind {
	ks := []implKind{implGo}
	if haveAVX2 {
		ks = append(ks, implAVX2)
	}
	if haveAVX512 {
		ks = append(ks, implAVX512)
	}
	return ks
}

// parseImpl returns the available path named name ("go", "avx2", "avx512").
func parseImpl(name string) (implKind, error) {
	var names []string
	for _, k := range implsAvailable() {
		if k.String() == name {
			return k, nil
		}
		names = append(names, k.String())
	}
	return 0, fmt.Errorf("kernel path %q is not available on this machine (available: %s)", name, strings.Join(names, ", "))
}

// Impl names the kernel path in use ("go", "avx2" or "avx512"), for
// benchmarks and logs.
func Impl() string { return impl.String() }

// Impls lists the kernel paths this machine can run, the pure-Go twins first
// and the start-up default last.
func Impls() []string {
	var s []string
	for _, k := range implsAvailable() {
		s = append(s, k.String())
	}
	return s
}

// Use switches every kernel to the path named name (one of Impls). Call it
// at start-up, before any kernel runs (the path is read without locking).
func Use(name string) error {
	k, err := parseImpl(name)
	if err != nil {
		return err
	}
	impl = k
	return nil
}
