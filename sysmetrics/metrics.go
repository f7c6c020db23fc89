package sysmetrics

// The metric names a run logs a Sample's values under. aelab's metric schema (package
// experiments) declares these metrics, with their units, under the same names; a program
// tracked through package track logs them alike, so the UI and reports show both.
const (
	MetricCPU       = "system.cpu_percent"
	MetricRSS       = "system.rss_bytes"
	MetricPeakRSS   = "system.rss_peak_bytes"
	MetricGPU       = "system.gpu_percent"
	MetricGPUMemory = "system.gpu_memory_bytes"
)

// Metrics names the sample's values as a run's metrics: CPU, resident and peak resident
// memory, and the first GPU's utilisation and memory (the one training runs on). What the
// sample lacks (CPU and memory outside Linux, a GPU) is left out.
func (s Sample) Metrics() map[string]float64 {
	m := map[string]float64{}
	if s.CPU {
		m[MetricCPU] = s.CPUPercent
	}
	if s.Memory {
		m[MetricRSS], m[MetricPeakRSS] = s.RSSBytes, s.PeakRSSBytes
	}
	if len(s.GPUs) > 0 {
		m[MetricGPU], m[MetricGPUMemory] = s.GPUs[0].UtilizationPercent, s.GPUs[0].MemoryUsedBytes
	}
	return m
}
