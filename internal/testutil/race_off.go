//go:build !race

package testutil

// Race is true in builds with the race detector, where sync.Pool drops
// items at random and allocation counts mean nothing.
const Race = false
