package sweeps

import (
	"context"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// A trial whose model does not fit in the worker's memory ends FAILED with the reason; the
// sweep's other trials train.
func TestTrialTooLargeForMemoryFails(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	store := openTestStore(t)
	spec := mustParse(t, `
name: too-large
model: vanilla
base: {epochs: 1, subset: 256, test-subset: 128, batch: 128}
parameters:
  widths: ["200000000,128,32", "32,8"]
`)
	var log strings.Builder
	sw, err := RunLocal(context.Background(), store, spec, LocalOptions{Workers: 1, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %d, %v\n%s", len(runs), err, log.String())
	}
	huge, small := runs[0], runs[1]
	if huge.Status != tracker.StatusFailed || !strings.HasPrefix(huge.Error, "model vanilla does not fit in memory: training it takes about 5.69 TB: parameters 5.31 TB") ||
		!strings.HasSuffix(huge.Error, "; 8.00 GB available (AELAB_MEMORY_LIMIT)") {
		t.Errorf("trial 0: %s %q, want FAILED for memory", huge.Status, huge.Error)
	}
	if small.Status != tracker.StatusFinished {
		t.Errorf("trial 1: %s %q, want FINISHED", small.Status, small.Error)
	}
	st, err := Status(context.Background(), store, sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts[trial.Failed] != 1 || st.Counts[trial.Finished] != 1 {
		t.Errorf("status counts %v, want 1 failed and 1 finished", st.Counts)
	}
}
