package sysmetrics

import (
	"os"
	"syscall"
	"time"
)

// processCPU is the user plus system CPU time of all threads of this process so far.
// getrusage reports it to the microsecond (the kernel scales its precise run time), where
// /proc/self/stat rounds it to clock ticks of 10 ms.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// processMemory is the resident set size of this process now and its peak, in bytes.
func processMemory() (rss, peak float64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	return parseStatusMemory(b)
}
