package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/sweeps/trial"
)

func writeSpec(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sweep.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Bad input to the sweep commands is one line on stderr and exit status 2; nothing is written.
func TestSweepUsageErrors(t *testing.T) {
	s, db := newTestStore(t)
	s.Close()
	before, _ := os.ReadFile(db)
	bad := writeSpec(t, "model: deep\nparameters:\n  lr: [0.001]\n  learnin_rate: [0.01]\n")
	big := writeSpec(t, "model: deep\nparameters:\n  lr: {uniform: [0.0001, 0.01]}\nmethod: random\ntrials: 5000\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "fly"}, `unknown subcommand "fly"`},
		{[]string{"sweep", "run", bad, "--db", db}, `sweep.yaml:4: parameters.learnin_rate: unknown parameter "learnin_rate" (valid: dataset, epochs, batch,`},
		{[]string{"sweep", "create", bad, "--db", db}, "sweep.yaml:4: parameters.learnin_rate"},
		{[]string{"sweep", "create", big, "--db", db}, "makes 5,000 trials, more than 1000: pass --allow-large"},
		{[]string{"sweep", "run", "/no/such/spec.yaml", "--db", db}, "no such file"},
		{[]string{"sweep", "run", bad, "--workers", "0", "--db", db}, "--workers must be 1 to 64"},
		{[]string{"sweep", "run", "--db", db}, "expected one SPEC file"},
		{[]string{"sweep", "status", "--db", db}, "expected one sweep ID"},
		{[]string{"sweep", "status", "abcdef12", "--db", db}, `no sweep with id "abcdef12"`},
		{[]string{"sweep", "cancel", "abcdef12", "--db", db}, `no sweep with id "abcdef12"`},
		{[]string{"sweep", "report", "abcdef12", "--db", db, "--format", "pdf"}, `unknown report format "pdf"`},
		{[]string{"worker", "--queue", "tpu", "--db", db}, "--queue must be cpu or gpu"},
		{[]string{"worker", "--concurrency", "0", "--db", db}, "--concurrency must be 1 to 64"},
		{[]string{"worker", "--stop-timeout", "-1s", "--db", db}, "--stop-timeout must be >= 0"},
	} {
		code, _, stderr := runAelab(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("aelab %v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, stderr, c.want)
		}
	}
	if code, _, stderr := runAelab(t, "sweep"); code != 2 || !strings.HasSuffix(stderr, "missing subcommand (aelab sweep run|create|list|status|cancel|report)\n") {
		t.Errorf("aelab sweep: exit %d, stderr %q", code, stderr)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Error("a refused command changed the store")
	}
}

// `aelab sweep run` trains every trial here, then list, status and report read the sweep.
func TestSweepRunListStatusReport(t *testing.T) {
	s, db := newTestStore(t)
	s.Close()
	spec := writeSpec(t, `name: cli
model: vanilla
base: {epochs: 2, subset: 512, test-subset: 256}
parameters:
  lr: [0.001, 0.003]
seeds: [1, 2]
`)
	code, out, errOut := runAelab(t, "sweep", "run", spec, "--workers", "2", "--db", db)
	if code != 0 || !strings.Contains(out, "4 trials queued, 2 local workers") || !strings.Contains(out, "sweep ") || !strings.Contains(out, "best: trial ") {
		t.Fatalf("sweep run: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runAelab(t, "sweep", "list", "--db", db, "--json")
	var list []struct {
		ID     string       `json:"id"`
		Counts trial.Counts `json:"counts"`
		Best   *float64     `json:"best"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Counts[trial.Finished] != 4 || list[0].Best == nil {
		t.Fatalf("sweep list --json: %d\n%s", code, out)
	}
	id := list[0].ID[:8]
	code, out, _ = runAelab(t, "sweep", "status", id, "--db", db)
	if code != 0 || !strings.Contains(out, "4 finished") || !strings.Contains(out, "lr=0.003 seed=2") {
		t.Errorf("sweep status: %d\n%s", code, out)
	}
	dir := filepath.Join(t.TempDir(), "report")
	code, out, _ = runAelab(t, "sweep", "report", id, "--db", db, "--out", dir)
	if code != 0 || !strings.Contains(out, "4 trials (4 finished), 4 figures") {
		t.Errorf("sweep report: %d\n%s", code, out)
	}
	for _, f := range []string{"index.html", "report.md", "sweep_parallel.png", "sweep_curves.svg", "sweep_metric_lr.png", "sweep_metric_seed.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("report: %v", err)
		}
	}
	code, out, _ = runAelab(t, "runs", "list", "--where", `tags.sweep.id = "`+list[0].ID+`"`, "--db", db)
	if code != 0 || strings.Count(out, "cli-t00") != 4 {
		t.Errorf("the trials are not ordinary runs in runs list:\n%s", out)
	}
}
