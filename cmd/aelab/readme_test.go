package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// readmeSection returns the shell blocks of the README's section titled title.
func readmeSection(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "### "+title+"\n")
	if start < 0 {
		t.Fatalf("README has no section %q", title)
	}
	text = text[start+len(title)+5:]
	if end := strings.Index(text, "\n### "); end >= 0 {
		text = text[:end]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeTrackYourOwnModel runs the shell examples of the README's "Track your own model"
// as a user would, in order, in a fresh folder where bin/aelab is this test binary as aelab
// (TestMain) and checkpoints/mnist-mlp a folder GoMLX's writers made.
func TestReadmeTrackYourOwnModel(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 is needed: %v", err)
	}
	blocks := readmeSection(t, "Track your own model")
	if len(blocks) != 3 {
		t.Fatalf("%d shell blocks, want 3 (aelab run, program sweep, import)", len(blocks))
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "bin"), 0o755)
	wrapper := "#!/bin/sh\n" + childEnv + "=\"$*\" exec " + os.Args[0] + " -test.run='^$'\n"
	if err := os.WriteFile(filepath.Join(dir, "bin", "aelab"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "checkpoints"), 0o755)
	gomlxFolder(t, filepath.Join(dir, "checkpoints"))
	db := filepath.Join(dir, "aelab.db")

	var outputs []string
	for i, block := range blocks {
		cmd := exec.Command("sh", "-e", "-c", block)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "AELAB_DB="+db)
		out, err := cmd.CombinedOutput()
		t.Logf("block %d:\n%s\n%s", i+1, block, out)
		if err != nil {
			t.Fatalf("block %d failed: %v\n%s", i+1, err, out)
		}
		outputs = append(outputs, string(out))
	}
	for i, want := range []string{"epoch=1 loss=0.1000 val_loss=0.1100", "FINISHED (exit status 0, 3 metrics lines)", "first"} {
		if !strings.Contains(outputs[0], want) {
			t.Errorf("aelab run block (check %d): output lacks %q", i, want)
		}
	}

	s, err := tracker.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.SearchRuns(tracker.Search{})
	if err != nil {
		t.Fatal(err)
	}
	byExperiment := map[string][]*tracker.RunRecord{}
	for _, r := range runs {
		if r.Status != tracker.StatusFinished {
			t.Errorf("run %s (%s) %s %q", r.Name, r.Experiment, r.Status, r.Error)
		}
		byExperiment[r.Experiment] = append(byExperiment[r.Experiment], r)
	}
	if first := byExperiment["byo"]; len(first) != 1 || first[0].Metrics["val_loss"] == 0 {
		t.Errorf("aelab run's runs: %v", first)
	}
	if len(byExperiment["sweeps"]) != 3 || len(byExperiment["gomlx-import"]) != 1 {
		t.Errorf("runs by experiment: %d sweep trials (want 3), %d imported (want 1)", len(byExperiment["sweeps"]), len(byExperiment["gomlx-import"]))
	}
}
