package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// runAelab runs the command line in-process and returns its exit code and output.
func runAelab(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// newTestStore creates an empty store in a temporary folder and returns it open, with its path;
// close it before the commands under test open the path themselves.
func newTestStore(t *testing.T) (*tracker.Store, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "aelab.db")
	s, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

// trainRuns runs `aelab train` once per argument list, with the store at db and no progress
// bar, and returns the runs in the store, newest first.
func trainRuns(t *testing.T, db string, trainings ...[]string) []*tracker.RunRecord {
	t.Helper()
	for _, args := range trainings {
		if code, _, stderr := runAelab(t, append(append([]string{"train"}, args...), "--db", db, "--progress=false")...); code != 0 {
			t.Fatalf("train %v: exit %d: %s", args, code, stderr)
		}
	}
	store, err := tracker.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracker.Search{})
	if err != nil || len(runs) != len(trainings) {
		t.Fatalf("runs %v, %v", runs, err)
	}
	return runs
}
