package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// --artifacts opens the store with that artifact folder (tracker.Options.ArtifactRoot): a
// trained run's checkpoint lands there, the process's environment stays as it was, so the
// next command in the same process does not inherit it, and a program `aelab run` starts
// finds the folder in AELAB_ARTIFACTS (issue 20, item 4).
func TestArtifactsFlagOpensTheStoreWithIt(t *testing.T) {
	t.Setenv("AELAB_ARTIFACTS", "")
	db := filepath.Join(t.TempDir(), "aelab.db")
	artifacts := t.TempDir()
	code, _, stderr := runAelab(t, "train", "--epochs", "1", "--subset", "64", "--test-subset", "32", "--db", db, "--artifacts", artifacts, "--progress=false")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if env := os.Getenv("AELAB_ARTIFACTS"); env != "" {
		t.Errorf("--artifacts changed the environment: AELAB_ARTIFACTS=%q", env)
	}
	s, err := tracker.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.SearchRuns(tracker.Search{})
	s.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	if files, _ := filepath.Glob(filepath.Join(artifacts, "checkpoints", runs[0].ID, "*")); len(files) == 0 {
		t.Errorf("no checkpoint of run %s under --artifacts %s", runs[0].ShortID(), artifacts)
	}
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(db), "checkpoints", "*")); len(files) != 0 {
		t.Errorf("checkpoints beside the store although --artifacts was given: %v", files)
	}

	code, out, stderr := runAelab(t, "run", "--db", db, "--artifacts", artifacts, "--", "sh", "-c", `echo "artifacts:$AELAB_ARTIFACTS"`)
	if code != 0 || !strings.Contains(out, "artifacts:"+artifacts+"\n") {
		t.Errorf("aelab run --artifacts: exit %d, stdout %q, stderr %q; want the program to see AELAB_ARTIFACTS=%s", code, out, stderr, artifacts)
	}
	if code, out, _ := runAelab(t, "run", "--db", db, "--", "sh", "-c", `echo "artifacts:$AELAB_ARTIFACTS"`); code != 0 || !strings.Contains(out, "artifacts:\n") {
		t.Errorf("aelab run without --artifacts: the program sees %q", out)
	}
}
