package kernels

// implKind names one implementation of the kernels: the pure-Go twins or a
// SIMD path. The path is chosen once at start-up (impl); tests switch impl to
// run every path the machine has (implsAvailable).
type implKind uint8

const (
	implGo   implKind = iota // pure-Go twins, every platform
	implAVX2                 // amd64 AVX2+FMA (not with the purego tag)
)

func (k implKind) String() string {
	switch k {
	case implAVX2:
		return "avx2"
	default:
		return "go"
	}
}

// impl is the implementation every kernel uses. It is written only at
// start-up and by tests, never while a kernel runs.
var impl = bestImpl()

func bestImpl() implKind {
	if haveAVX2 {
		return implAVX2
	}
	return implGo
}

// implsAvailable lists the paths this machine can run, twin first.
func implsAvailable() []implKind {
	ks := []implKind{implGo}
	if haveAVX2 {
		ks = append(ks, implAVX2)
	}
	return ks
}

// Impl names the kernel path in use ("go" or "avx2"), for benchmarks and logs.
func Impl() string { return impl.String() }
