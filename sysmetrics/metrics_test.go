package sysmetrics

import (
	"maps"
	"testing"
)

func TestSampleMetrics(t *testing.T) {
	full := Sample{CPU: true, CPUPercent: 12, Memory: true, RSSBytes: 1 << 20, PeakRSSBytes: 2 << 20,
		GPUs: []GPU{{UtilizationPercent: 50, MemoryUsedBytes: 3 << 20}, {UtilizationPercent: 7}}}
	want := map[string]float64{MetricCPU: 12, MetricRSS: 1 << 20, MetricPeakRSS: 2 << 20, MetricGPU: 50, MetricGPUMemory: 3 << 20}
	if got := full.Metrics(); !maps.Equal(got, want) {
		t.Errorf("full sample: %v, want %v", got, want)
	}
	if got := (Sample{}).Metrics(); len(got) != 0 {
		t.Errorf("empty sample: %v", got)
	}
}
