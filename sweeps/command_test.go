package sweeps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// trainProgram is a user's training program: it reads its flags W&B's way and reports its
// metrics on stdout Katib's way; it fails for lr=0.5.
const trainProgram = `import sys
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
lr, epochs = float(args["lr"]), int(args["epochs"])
if lr == 0.5:
    print("diverged: loss is nan at lr=0.5", file=sys.stderr)
    sys.exit(1)
for epoch in range(1, epochs + 1):
    print(f"epoch={epoch} val_loss={lr / epoch} width={args['width']}", flush=True)
`

func programSpec(t *testing.T) *Spec {
	t.Helper()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s is needed: %v", python, err)
	}
	script := filepath.Join(t.TempDir(), "train.py")
	if err := os.WriteFile(script, []byte(trainProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	return mustParse(t, `
name: prog
command: [`+python+`, `+script+`]
base: {epochs: 3, width: 16}
parameters:
  lr: [0.1, 0.2, 0.5]
metric: val_loss
`)
}

// checkProgramSweep checks the runs of programSpec's sweep: two finished with the program's
// metrics, the lr=0.5 one failed with the program's stderr.
func checkProgramSweep(t *testing.T, store *tracker.Store, sw *tracker.Sweep) {
	t.Helper()
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil || len(runs) != 3 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	for _, r := range runs {
		lr := r.Params["lr"]
		if !strings.Contains(r.Tags["env.command"], "--epochs=3 --width=16 --lr="+lr) {
			t.Errorf("trial %s ran %q", r.Tags[tracker.TagSweepTrial], r.Tags["env.command"])
		}
		if lr == "0.5" {
			if r.Status != tracker.StatusFailed || !strings.Contains(r.Error, "diverged: loss is nan") {
				t.Errorf("lr=0.5: %s %q, want FAILED with the program's stderr", r.Status, r.Error)
			}
			continue
		}
		h, err := store.MetricHistory(r.ID, "val_loss")
		if r.Status != tracker.StatusFinished || err != nil || len(h) != 3 || h[2].Epoch != 3 || h[2].Value <= 0 {
			t.Errorf("lr=%s: %s %q, val_loss %v %v", lr, r.Status, r.Error, h, err)
		}
	}
	st, err := Status(context.Background(), store, sw.ID[:8])
	if err != nil || st.Counts[trial.Finished] != 2 || st.Counts[trial.Failed] != 1 {
		t.Fatalf("status %+v, %v", st, err)
	}
}

func TestProgramSweepOnSQLite(t *testing.T) {
	store := openTestStore(t)
	var log strings.Builder
	sw, err := RunLocal(context.Background(), store, programSpec(t), LocalOptions{Workers: 2, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Log(log.String())
	if rec, err := store.GetSweep(sw.ID); err != nil {
		t.Error(err)
	} else if !strings.HasSuffix(rec.Model, "train.py") {
		t.Errorf("the sweep's model %q, want its command line", rec.Model)
	}
	checkProgramSweep(t, store, sw)
}

func TestProgramSweepOnPostgres(t *testing.T) {
	store, err := tracker.Open(pgtest.Shared(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var log strings.Builder
	sw, err := RunLocal(context.Background(), store, programSpec(t), LocalOptions{Workers: 2, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkProgramSweep(t, store, sw)
}

func TestProgramSpecErrors(t *testing.T) {
	for src, want := range map[string]string{
		"command: [sh, x]\nmodel: vanilla\nparameters: {lr: [1]}\nmetric: loss\n": "give either model or command",
		"command: [sh, x]\nparameters: {lr: [1]}\n":                               "missing: the metric the program reports",
		"command: [sh, x]\nparameters: {\"--x\": [1]}\nmetric: loss\n":            "is not a flag name",
		"command: []\nparameters: {lr: [1]}\nmetric: loss\n":                      "a list of 1 to 256 words",
		"command: [sh, x]\nparameters: {lr: [1]}\nmetric: \"a b\"\n":              "is not a metric name",
		"command: [sh, x]\nparameters: {lr: [1]}\nmetric: loss\ngoal: best\n":     "goal",
		"model: vanilla\nparameters: {lr: [0.1]}\ngoal: maximize\n":               "only with command",
	} {
		_, err := ParseSpec("p.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	s := mustParse(t, "command: [go, run, ./train]\nparameters: {lr: [0.1]}\nseeds: [1, 2]\nmetric: acc\ngoal: maximize\nearly_stopping: {rule: median}\n")
	if s.Metric.LowerIsBetter || !s.Metric.PerEpoch || s.Model != "" {
		t.Errorf("metric %+v", s.Metric)
	}
	trials, err := s.ExpandTrials(false)
	if err != nil || len(trials) != 2 {
		t.Fatalf("trials %v, %v", trials, err)
	}
	if got := strings.Join(s.TrialCommand(trials[1]), " "); got != "go run ./train --lr=0.1 --seed=2" {
		t.Errorf("trial command %q", got)
	}
}

// A program trial worse than the median of the finished ones at an epoch it reports is
// stopped there and ends FINISHED, tagged with why.
func TestProgramSweepStopsEarly(t *testing.T) {
	const python = "/usr/bin/python3"
	script := filepath.Join(t.TempDir(), "train.py")
	os.WriteFile(script, []byte(`import sys, time
lr = float(sys.argv[1].split("=")[1])
for epoch in range(1, 9):
    print(f"epoch={epoch} val_loss={lr}", flush=True)
    time.sleep(0.1)
`), 0o644)
	spec := mustParse(t, `
command: [`+python+`, `+script+`]
parameters:
  lr: [0.1, 0.2, 0.3, 0.9]
metric: val_loss
early_stopping: {rule: median}
`)
	store := openTestStore(t)
	var log strings.Builder
	sw, err := RunLocal(context.Background(), store, spec, LocalOptions{Workers: 1, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil || len(runs) != 4 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	for _, r := range runs {
		h, _ := store.MetricHistory(r.ID, "val_loss")
		stopped := r.Tags[tracker.TagSweepStoppedEarly]
		if r.Status != tracker.StatusFinished {
			t.Errorf("lr=%s: %s %q", r.Params["lr"], r.Status, r.Error)
		}
		if r.Params["lr"] == "0.9" {
			if !strings.Contains(stopped, "median rule at epoch 1") || len(h) >= 8 {
				t.Errorf("lr=0.9: stopped %q after %d epochs, want stopped by the median rule at epoch 1\n%s", stopped, len(h), log.String())
			}
		} else if stopped != "" || len(h) != 8 {
			t.Errorf("lr=%s: stopped %q after %d epochs, want all 8", r.Params["lr"], stopped, len(h))
		}
	}
}
