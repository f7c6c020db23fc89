package sysmetrics

import (
	"bytes"
	"strconv"
)

// parseStatusMemory reads VmRSS and VmHWM ("high water mark") of /proc/PID/status, in kB.
func parseStatusMemory(b []byte) (rss, peak float64, ok bool) {
	var found int
	for line := range bytes.Lines(b) {
		var dst *float64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &rss
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &peak
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 2 {
			return 0, 0, false
		}
		kb, err := strconv.ParseFloat(string(f[1]), 64)
		if err != nil {
			return 0, 0, false
		}
		*dst = kb * 1024
		if found++; found == 2 {
			return rss, peak, true
		}
	}
	return 0, 0, false
}
