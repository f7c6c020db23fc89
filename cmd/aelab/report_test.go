package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
)

// reportStore is a store with one real, tiny vanilla run (1 epoch, 256 images).
func reportStore(t *testing.T) string {
	t.Helper()
	s, db := newTestStore(t)
	defer s.Close()
	cfg, err := aelib.DefaultConfig("vanilla")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 256, 128
	if _, err := experiments.Run(context.Background(), s, experiments.Spec{Config: cfg, Section: "1.2", Source: "test"}, experiments.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestReportCommand(t *testing.T) {
	db := reportStore(t)
	out := filepath.Join(t.TempDir(), "report")
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"report", "--db", db, "--out", out, "--images", "4"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, name := range []string{"index.html", "report.md", "val_loss.png", "val_loss.svg", "params.png", "digit_mse.svg"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "index.html") || !strings.Contains(stdout.String(), "claims") {
		t.Errorf("stdout: %s", stdout.String())
	}
	html, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(html), "476,720") {
		t.Error("index.html lacks the vanilla parameter count")
	}

	mdOnly := filepath.Join(t.TempDir(), "md")
	if code := runMain([]string{"report", "--db", db, "--out", mdOnly, "--format", "md", "--no-grids"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--format md: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(mdOnly, "index.html")); !os.IsNotExist(err) {
		t.Error("--format md wrote index.html")
	}

	for _, bad := range [][]string{
		{"--format", "pdf"},
		{"--format", "html,docx"},
		{"--where", `params.model ==`},
		{"--images", "0"},
		{"extra"},
		{"--nope"},
	} {
		stderr.Reset()
		args := append([]string{"report", "--db", db, "--out", filepath.Join(t.TempDir(), "x")}, bad...)
		if code := runMain(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, stderr.String())
		}
	}
	// No run matches: a failure, not a usage error.
	if code := runMain([]string{"report", "--db", db, "--out", filepath.Join(t.TempDir(), "y"), "--where", `params.model = "nope"`}, &stdout, &stderr); code != 1 {
		t.Errorf("no matching run: exit %d, want 1", code)
	}
}
