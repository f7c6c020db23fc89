package experiments

import (
	"context"
	"errors"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// hugeConfig is the vanilla model with a first layer of 200 million units: about 6 TB to train.
func hugeConfig(t *testing.T) aelib.Config {
	cfg := tinyConfig(t, aelib.ModelVanilla)
	cfg.Widths = []int{200_000_000, 128, 32}
	return cfg
}

// A model too large for the machine is refused before anything is built: untracked with the
// error alone, tracked as a FAILED run whose reason is the one line.
func TestRunRefusesAModelTooLargeForMemory(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	ds := mustMNIST(t)
	var me *aelib.MemoryError
	if res, err := Run(context.Background(), nil, Spec{Config: hugeConfig(t)}, Options{Data: ds}); !errors.As(err, &me) || res != nil {
		t.Fatalf("untracked: %v, %v; want a *aelib.MemoryError and no result", res, err)
	}
	store := openTestStore(t)
	res, err := Run(context.Background(), store, Spec{Config: hugeConfig(t)}, Options{Data: ds})
	if !errors.As(err, &me) || res == nil || res.RunID == "" {
		t.Fatalf("tracked: %v, %v; want a *aelib.MemoryError and the run", res, err)
	}
	rec, err := store.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFailed || rec.Error != me.Error() {
		t.Errorf("run %s %q, want FAILED %q", rec.Status, rec.Error, me.Error())
	}
}

// Reproducing a stored config too large for the machine creates no run.
func TestReproduceRefusesAStoredConfigTooLargeForMemory(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	store := openTestStore(t)
	run, err := StartRun(store, Spec{Config: hugeConfig(t), Source: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Finish(tracker.StatusFinished, ""); err != nil {
		t.Fatal(err)
	}
	_, res, err := Reproduce(context.Background(), store, run.ID(), Options{})
	var me *aelib.MemoryError
	if !errors.As(err, &me) || res != nil {
		t.Fatalf("Reproduce: %v, %v; want a *aelib.MemoryError and no run", res, err)
	}
	runs, err := store.SearchRuns(tracker.Search{})
	if err != nil || len(runs) != 1 {
		t.Errorf("%d runs (%v), want only the original", len(runs), err)
	}
}
