package experiments

import (
	"path/filepath"
	"testing"

	"github.com/aelab/aelab/sysmetrics"
	"github.com/aelab/aelab/tracker"
)

// BenchmarkSystemSample is what one system sample costs a tracked run: reading the process's
// CPU time and memory and logging them to a real SQLite store. A run pays it every
// DefaultSystemInterval and once per epoch; divide by those to get its share of training time.
func BenchmarkSystemSample(b *testing.B) {
	store, err := tracker.Open(filepath.Join(b.TempDir(), "aelab.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	run, err := store.StartRun(tracker.RunSpec{Name: "bench", Source: "test"})
	if err != nil {
		b.Fatal(err)
	}
	s := sysmetrics.New(sysmetrics.Options{})
	defer s.Close()
	step := int64(0)
	for b.Loop() {
		step++
		if err := run.LogMetrics(s.Sample().Metrics(), step, 1); err != nil {
			b.Fatal(err)
		}
	}
}
