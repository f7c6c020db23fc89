package gomlxhook

import "github.com/aelab/aelab/sysmetrics"

// System metric names: the same as aelab's own runs log (experiments' metric schema), so the
// UI's system charts show a GoMLX program's runs too.
const (
	SystemCPU       = "system.cpu_percent"
	SystemRSS       = "system.rss_bytes"
	SystemPeakRSS   = "system.rss_peak_bytes"
	SystemGPU       = "system.gpu_percent"
	SystemGPUMemory = "system.gpu_memory_bytes"
)

// SystemMetrics names a sample's values as a run's system metrics, leaving out what the
// sample lacks (CPU and memory outside Linux, a GPU).
func SystemMetrics(s sysmetrics.Sample) map[string]float64 {
	m := map[string]float64{}
	if s.CPU {
		m[SystemCPU] = s.CPUPercent
	}
	if s.Memory {
		m[SystemRSS], m[SystemPeakRSS] = s.RSSBytes, s.PeakRSSBytes
	}
	if len(s.GPUs) > 0 {
		m[SystemGPU], m[SystemGPUMemory] = s.GPUs[0].UtilizationPercent, s.GPUs[0].MemoryUsedBytes
	}
	return m
}
