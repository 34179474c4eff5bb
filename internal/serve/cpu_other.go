//go:build !unix

package serve

// processCPU is 0 where getrusage is missing: no CPU time or cost is
// recorded.
func processCPU() float64 { return 0 }
