//go:build !amd64 || amd64.v3

package kernels

// noFMA: see nofma_test.go.
const noFMA = false
