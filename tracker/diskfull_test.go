package tracker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/tmpfs"
)

// logUntilFull logs epochs into r until a write fails, and returns that error.
func logUntilFull(t *testing.T, r *Run) error {
	t.Helper()
	for epoch := 2; epoch < 100_000; epoch++ {
		if err := r.LogMetrics(map[string]float64{"train_loss": 0.5, "val_bce": 0.5, "val_mse": 0.1}, int64(epoch), epoch); err != nil {
			return err
		}
	}
	t.Fatal("the full disk took 100,000 epochs")
	return nil
}

// Issue #10 item 8: on a full disk the run ends FAILED with the real reason
// (the disk reserve makes room for that last write), not RUNNING until a reader
// calls it LOST "process … is gone".
func TestFullDiskRecordsFailed(t *testing.T) {
	dir := tmpfs.Mount(t, 4<<20)
	path := filepath.Join(dir, "aelab.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // before the unmount, also when the test fails
	r := mustStart(t, s, RunSpec{Name: "filled"})
	if err := r.LogMetrics(map[string]float64{"val_bce": 0.9}, 1, 1); err != nil {
		t.Fatal(err)
	}
	filler := tmpfs.Fill(t, dir)
	logErr := logUntilFull(t, r)
	if !isDiskFull(logErr) || !strings.Contains(logErr.Error(), "database or disk is full") {
		t.Fatalf("log error %v, want a full disk", logErr)
	}
	if err := r.Fail(logErr); err != nil {
		t.Fatalf("the end of the run was not recorded: %v", err)
	}
	s.Close()
	os.Remove(filler)

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := ro.GetRun(r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusFailed || got.Error != logErr.Error() {
		t.Errorf("status %s %q, want FAILED %q", got.Status, got.Error, logErr)
	}
	if h, err := ro.MetricHistory(r.ID(), "val_bce"); err != nil || len(h) == 0 || h[0].Value != 0.9 {
		t.Errorf("history before the disk filled: %v %v", h, err)
	}
}
