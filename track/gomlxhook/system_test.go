package gomlxhook_test

import (
	"maps"
	"testing"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/sysmetrics"
	"github.com/aelab/aelab/track/gomlxhook"
)

// The hook names system samples as aelab's own runs do (the metric schema), so the UI shows
// both alike.
func TestSystemMetricsNamedAsTheSchema(t *testing.T) {
	s := sysmetrics.Sample{CPU: true, CPUPercent: 12, Memory: true, RSSBytes: 1 << 20, PeakRSSBytes: 2 << 20,
		GPUs: []sysmetrics.GPU{{UtilizationPercent: 50, MemoryUsedBytes: 3 << 20}}}
	got, want := gomlxhook.SystemMetrics(s), experiments.SystemMetrics(s)
	if !maps.Equal(got, want) || len(got) != 5 {
		t.Errorf("hook %v, schema %v", got, want)
	}
}
