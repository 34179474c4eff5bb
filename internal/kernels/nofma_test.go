//go:build amd64 && !amd64.v3

package kernels

// noFMA is true where the compiler never fuses x*y+z into one rounding
// (amd64 below v3), so float32 loops in the tests reproduce the kernels'
// arithmetic bit for bit. Elsewhere those checks are skipped.
const noFMA = true
