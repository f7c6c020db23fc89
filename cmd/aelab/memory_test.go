package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// hugeWidths is the model: a first layer of 200 million units, about 6 TB to train.
const hugeWidths = "200000000,128,32"

// `aelab train` (and bench) of a model too large for the machine is one line on stderr and
// exit status 2, before any store or run is made; with --no-track too.
func TestTrainRefusesAModelTooLargeForMemory(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	db := filepath.Join(t.TempDir(), "aelab.db")
	for _, args := range [][]string{
		{"train", "--widths", hugeWidths, "--epochs", "1", "--subset", "600", "--db", db},
		{"train", "--widths", hugeWidths, "--no-track"},
		{"train", "--model", "denoise", "--filters", "20000"},
		{"train", "--model", "vae", "--widths", "100000000", "--db", db},
		{"bench", "--model", "vanilla", "--widths", hugeWidths, "--db", db},
	} {
		code, out, stderr := runAelab(t, args...)
		if code != 2 || !strings.Contains(stderr, "does not fit in memory: training it takes about") ||
			!strings.HasSuffix(stderr, "; 8.00 GB available (AELAB_MEMORY_LIMIT)\n") || strings.Count(stderr, "\n") != 1 || out != "" {
			t.Errorf("aelab %v: exit %d, stdout %q, stderr %q; want 2 and one line", args, code, out, stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a refused training made the store: %v", err)
	}
	// Widths too large to count are refused as such.
	code, _, stderr := runAelab(t, "train", "--widths", "9000000000000000000,32", "--no-track")
	if code != 2 || !strings.Contains(stderr, "is too large to train: its sizes pass aelab's limit of 1,000,000,000,000 parameters") {
		t.Errorf("absurd widths: exit %d, stderr %q", code, stderr)
	}
}

// `aelab summary` prints the estimate and whether it fits; absurd sizes are refused, not
// counted with an overflow.
func TestSummaryPrintsTheMemoryEstimate(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	code, out, stderr := runAelab(t, "summary", "--widths", hugeWidths)
	if code != 0 || !strings.Contains(out, "Encoder params: 182,600,004,256") ||
		!strings.Contains(out, "Training memory: about 6.06 TB: parameters 5.31 TB (365,200,009,264 of them") ||
		!strings.Contains(out, "It does not fit: 8.00 GB available (AELAB_MEMORY_LIMIT); aelab train refuses it.") {
		t.Errorf("summary of huge widths: exit %d, stderr %q, output:\n%s", code, stderr, out)
	}
	if code, out, _ := runAelab(t, "summary"); code != 0 || !strings.Contains(out, "It fits: 8.00 GB available") {
		t.Errorf("summary of vanilla: exit %d:\n%s", code, out)
	}
	code, _, stderr = runAelab(t, "summary", "--widths", "9000000000000000000,32")
	if code != 2 || !strings.Contains(stderr, "is too large to train") {
		t.Errorf("summary of absurd widths: exit %d, stderr %q", code, stderr)
	}
}

// `aelab runs reproduce` of a stored config too large for the machine refuses it before a
// run is recorded.
func TestReproduceRefusesAStoredConfigTooLargeForMemory(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	store, db := newTestStore(t)
	cfg, _ := aelib.DefaultConfig(aelib.ModelVanilla)
	cfg.Widths = []int{200_000_000, 128, 32}
	run, err := experiments.StartRun(store, experiments.Spec{Config: cfg, Source: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Finish(tracker.StatusFinished, ""); err != nil {
		t.Fatal(err)
	}
	store.Close()
	code, _, stderr := runAelab(t, "runs", "reproduce", run.ID(), "--db", db)
	if code != 2 || !strings.Contains(stderr, "model vanilla does not fit in memory") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("reproduce: exit %d, stderr %q; want 2 and one line", code, stderr)
	}
	store, err = tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if runs, err := store.SearchRuns(tracker.Search{}); err != nil || len(runs) != 1 {
		t.Errorf("%d runs (%v), want only the original", len(runs), err)
	}
}
