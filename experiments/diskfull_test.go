package experiments

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/tmpfs"
	"github.com/aelab/aelab/tracker"
)

// Issue #10 item 8: a full disk ends the run FAILED with the real reason while the
// store can take that last write, and says plainly when it cannot.
func TestFinishRunOnFullDisk(t *testing.T) {
	dir := tmpfs.Mount(t, 4<<20)
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	first, err := store.StartRun(tracker.RunSpec{Name: "first"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.StartRun(tracker.RunSpec{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	logUntilFull := func(r *tracker.Run) error {
		for epoch := 1; epoch < 100_000; epoch++ {
			if err := r.LogMetrics(map[string]float64{"train_loss": 0.5, "val_bce": 0.5}, int64(epoch), epoch); err != nil {
				return err
			}
		}
		t.Fatal("the full disk took 100,000 epochs")
		return nil
	}
	ctx := context.Background()

	tmpfs.Fill(t, dir)
	trainErr := logUntilFull(first)
	if err := finishRun(ctx, first, trainErr); err != nil {
		t.Fatalf("the disk reserve did not make room for the end of the run: %v", err)
	}
	rec, err := store.GetRun(first.ID())
	if err != nil || rec.Status != tracker.StatusFailed || !strings.Contains(rec.Error, "database or disk is full") {
		t.Fatalf("first run: %+v, %v", rec, err)
	}

	tmpfs.Fill(t, dir) // the reserve's room is taken too
	trainErr = logUntilFull(second)
	err = finishRun(ctx, second, trainErr)
	want := "the store could not record run " + second.ID()[:8] + " as FAILED, so readers will call it LOST: "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("err = %v\nwant %s…", err, want)
	}
}
