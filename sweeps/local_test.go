package sweeps

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

func openTestStore(t *testing.T) *tracker.Store {
	t.Helper()
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func mustParse(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := ParseSpec("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tinySpec is a sweep of tiny vanilla trials (a few hundred images, few epochs).
const tinySpec = `
name: tiny
model: vanilla
base: {epochs: 2, subset: 512, test-subset: 256, batch: 128}
parameters:
  lr: [0.001, 0.003]
  widths: ["64,16", "32,8"]
`

func TestRunLocalTrainsEveryTrialAsARun(t *testing.T) {
	store := openTestStore(t)
	spec := mustParse(t, tinySpec)
	var log strings.Builder
	sw, err := RunLocal(context.Background(), store, spec, LocalOptions{Workers: 2, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Log(log.String())
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4", len(runs))
	}
	for i, r := range runs {
		if r.Status != tracker.StatusFinished || r.Tags[tracker.TagSweepTrial] != string(rune('0'+i)) {
			t.Errorf("run %d: status %s, trial %q", i, r.Status, r.Tags[tracker.TagSweepTrial])
		}
	}
}

// max_parallel caps the trials of a sweep running at once, whatever the number of workers.
func TestMaxParallel(t *testing.T) {
	store := openTestStore(t)
	spec := mustParse(t, tinySpec+"max_parallel: 1\n")
	sw, err := RunLocal(context.Background(), store, spec, LocalOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil || len(runs) != 4 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	for i, a := range runs {
		for _, b := range runs[i+1:] {
			if a.StartTime.Before(b.EndTime) && b.StartTime.Before(a.EndTime) {
				t.Errorf("runs %s and %s ran at once with max_parallel 1", a.ShortID(), b.ShortID())
			}
		}
	}
}
