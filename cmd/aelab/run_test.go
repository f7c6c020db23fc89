package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aelab/aelab/tracker"
)

// trainPy is a Python training script that reports its metrics on stdout, Katib's way.
const trainPy = `import os, sys
print("starting", flush=True)
for epoch in range(1, 4):
    loss = 1.0 / epoch
    print(f"epoch={epoch} loss={loss} val_loss={loss + 0.1}", flush=True)
print("loss=nan")
print("accuracy=0.75 step=10")
print("run", os.environ["AELAB_RUN_ID"], "store", os.environ["AELAB_DB"], file=sys.stderr)
`

// failSh is a shell script that reports a metric and fails.
const failSh = `#!/bin/sh
echo "step=1 loss=2.5"
echo "data file missing: /data/x.csv" >&2
exit ${1:-1}
`

// sleepSh reports that it started and waits to be interrupted.
const sleepSh = `#!/bin/sh
echo "epoch=1 loss=0.9"
echo ready
trap 'echo "got INT" >&2; exit 130' INT
trap 'echo "got TERM" >&2; exit 143' TERM
while true; do sleep 0.1; done
`

func writeScript(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func onlyRun(t *testing.T, db string) (*tracker.RunRecord, map[string][]tracker.MetricPoint) {
	t.Helper()
	s, err := tracker.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.SearchRuns(tracker.Search{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	h, err := s.MetricHistories(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return runs[0], h
}

func TestRunPythonScript(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is needed: %v", python, err)
	}
	db := filepath.Join(t.TempDir(), "aelab.db")
	script := writeScript(t, "train.py", trainPy)
	t.Setenv("MY_API_TOKEN", "tok-123456789")
	t.Setenv("LAB_NOTE", "plain")
	code, stdout, stderr := runAelab(t, "run", "--db", db, "--experiment", "python", "--param", "lr=0.1", "--", python, script, "postgres://bob:hunter22@db:5432/lab")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wantOut := "starting\nepoch=1 loss=1.0 val_loss=1.1\nepoch=2 loss=0.5 val_loss=0.6\nepoch=3 loss=0.3333333333333333 val_loss=0.43333333333333335\nloss=nan\naccuracy=0.75 step=10\n"
	if stdout != wantOut {
		t.Errorf("stdout not passed through unchanged:\n%q\nwant\n%q", stdout, wantOut)
	}
	rec, h := onlyRun(t, db)
	if rec.Status != tracker.StatusFinished || rec.Experiment != "python" || rec.Name != "python3" || rec.Params["lr"] != "0.1" {
		t.Fatalf("run %s %q in %s named %s, params %v", rec.Status, rec.Error, rec.Experiment, rec.Name, rec.Params)
	}
	if !strings.Contains(stderr, "run "+rec.ID+" store "+db) {
		t.Errorf("the script did not see its run in AELAB_RUN_ID and AELAB_DB: %q", stderr)
	}
	if !strings.Contains(stderr, "1 metrics lines not logged") {
		t.Errorf("stderr does not count the bad line loss=nan: %q", stderr)
	}
	for key, steps := range map[string][]int64{"loss": {1, 2, 3}, "val_loss": {1, 2, 3}, "accuracy": {10}} {
		var got []int64
		for _, p := range h[key] {
			got = append(got, p.Step)
		}
		if len(got) != len(steps) || got[len(got)-1] != steps[len(steps)-1] {
			t.Errorf("%s at steps %v, want %v", key, got, steps)
		}
	}
	if h["val_loss"][1].Value != 0.6 || h["loss"][1].Epoch != 2 {
		t.Errorf("val_loss %v, loss %v", h["val_loss"], h["loss"])
	}
	if rec.Tags["env.command"] != python+" "+script+" postgres://bob:***@db:5432/lab" || rec.Tags["run.exit_code"] != "0" {
		t.Errorf("tags %v", rec.Tags)
	}
	config := string(rec.Config)
	if !strings.Contains(config, `"LAB_NOTE":"plain"`) || strings.Contains(config, "MY_API_TOKEN") || strings.Contains(config, "tok-123456789") ||
		strings.Contains(config, "hunter22") {
		t.Errorf("recorded environment keeps a secret or lost a plain variable: %s", config)
	}
}

func TestRunShellScriptFailing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	script := writeScript(t, "fail.sh", failSh)
	code, stdout, stderr := runAelab(t, "run", "--db", db, "--name", "fails", "--", script)
	if code != 1 || stdout != "step=1 loss=2.5\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	rec, h := onlyRun(t, db)
	if rec.Status != tracker.StatusFailed || rec.Error != "exit status 1: data file missing: /data/x.csv" {
		t.Errorf("run %s %q, want FAILED with the script's last stderr line", rec.Status, rec.Error)
	}
	if len(h["loss"]) != 1 || h["loss"][0].Value != 2.5 {
		t.Errorf("loss %v", h["loss"])
	}
	if code, _, _ := runAelab(t, "run", "--db", db, "--", script, "3"); code != 3 {
		t.Errorf("a program's exit status 3 became aelab's %d", code)
	}
}

func TestRunInterruptedIsKilled(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	script := writeScript(t, "sleep.sh", sleepSh)
	p := startAelab(t, nil, "run", "--db", db, "--", script)
	waitFor(t, 30*time.Second, "the script to start", func() bool { return strings.Contains(p.out.String(), "ready") })
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	if code := p.cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d (%v), want the script's 130: %s", code, err, p.out.String())
	}
	if !strings.Contains(p.out.String(), "got INT") {
		t.Errorf("the script did not get the SIGINT: %s", p.out.String())
	}
	rec, h := onlyRun(t, db)
	if rec.Status != tracker.StatusKilled || rec.Error != "interrupted by interrupt" || len(h["loss"]) != 1 {
		t.Errorf("run %s %q, loss %v; want KILLED by the interrupt", rec.Status, rec.Error, h["loss"])
	}
}

func TestRunUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	for args, want := range map[string]string{
		"run --db " + db:                       "missing the command to run",
		"run --db " + db + " -- /no/such/prog": "no such file",
		"run --bogus -- true":                  "flag provided but not defined",
	} {
		code, _, stderr := runAelab(t, strings.Fields(args)...)
		if code == 0 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("aelab %s: exit %d, stderr %q, want one line saying %q", args, code, stderr, want)
		}
	}
}
