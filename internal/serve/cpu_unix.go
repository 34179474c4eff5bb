//go:build unix

package serve

import "syscall"

// processCPU is the process's user + system CPU time in seconds
// (getrusage RUSAGE_SELF; see cost.go), 0 if it cannot be read.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}
