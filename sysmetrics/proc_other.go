//go:build !linux

package sysmetrics

import "time"

// processCPU is not measured outside Linux.
func processCPU() (time.Duration, bool) { return 0, false }

// processMemory is not measured outside Linux (no /proc).
func processMemory() (rss, peak float64, ok bool) { return 0, 0, false }
