package track_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/tracker"
)

func openRecord(t *testing.T, db, id string) *tracker.RunRecord {
	t.Helper()
	s, err := tracker.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.GetRun(id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// A program started under another process's run (AELAB_RUN_ID) logs into that run and leaves
// its end to the owner.
func TestStartAttachesToAELAB_RUN_ID(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	owner, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	parent, err := owner.StartRun(tracker.RunSpec{Experiment: "programs", Name: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(track.EnvRunID, parent.ID())
	run, err := track.Start(context.Background(), track.Options{DB: db, Experiment: "ignored", Params: map[string]string{"lr": "0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Attached() || run.ID() != parent.ID() {
		t.Fatalf("attached %v to %s, want %s", run.Attached(), run.ID(), parent.ID())
	}
	run.Log(1, map[string]float64{"loss": 0.5})
	if err := run.End(nil); err != nil {
		t.Fatal(err)
	}
	rec := openRecord(t, db, parent.ID())
	if rec.Status != tracker.StatusRunning || rec.Metrics["loss"] != 0.5 || rec.Params["lr"] != "0.1" || rec.Experiment != "programs" {
		t.Fatalf("after the attached End: %s, metrics %v, params %v", rec.Status, rec.Metrics, rec.Params)
	}
	parent.Finish(tracker.StatusFinished, "")

	t.Setenv(track.EnvRunID, parent.ID()) // a run that ended is no run to attach to
	if _, err := track.Start(context.Background(), track.Options{DB: db}); err == nil || !strings.Contains(err.Error(), "not RUNNING") {
		t.Errorf("attaching to a FINISHED run: %v", err)
	}
}

// A tracking failure is said once on stderr, counted, and never stops the program; End
// names the count.
func TestTrackingFailuresAreSaidOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	var stderr bytes.Buffer
	run, err := track.Start(context.Background(), track.Options{DB: db, Stderr: &stderr, NoSignals: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 { // concurrent logging, some of it refused (an empty metric name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.Log(int64(i), map[string]float64{"": 1})
			run.Log(int64(i), map[string]float64{"loss": float64(i)})
		}()
	}
	wg.Wait()
	run.End(nil)
	if n := strings.Count(stderr.String(), "\n"); n != 1 || !strings.Contains(stderr.String(), "empty metric key") {
		t.Errorf("stderr %q, want one line naming the failure", stderr.String())
	}
	rec := openRecord(t, db, run.ID())
	if rec.Status != tracker.StatusFinished || !strings.Contains(rec.Error, "8 tracking calls failed") {
		t.Errorf("run %s %q", rec.Status, rec.Error)
	}
	s, _ := tracker.OpenReadOnly(db)
	defer s.Close()
	if h, _ := s.MetricHistory(run.ID(), "loss"); len(h) != 8 {
		t.Errorf("%d loss values logged, want 8", len(h))
	}
}

// A Run whose store cannot be opened logs nothing and stops nothing.
func TestStartFailureGivesARunThatLogsNothing(t *testing.T) {
	run, err := track.Start(context.Background(), track.Options{DB: "/proc/no/such/aelab.db", NoSignals: true})
	if err == nil {
		t.Fatal("a store under /proc opened")
	}
	run.Log(1, map[string]float64{"loss": 1})
	run.LogArtifact("x")
	if err := run.End(nil); err != nil || run.ID() != "" {
		t.Errorf("End %v, id %q", err, run.ID())
	}
}

func TestEndStatuses(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	ctx, cancel := context.WithCancel(context.Background())
	killed, _ := track.Start(ctx, track.Options{DB: db, NoSignals: true})
	cancel()
	killed.End(ctx.Err())
	if rec := openRecord(t, db, killed.ID()); rec.Status != tracker.StatusKilled || rec.Error != "context canceled" {
		t.Errorf("cancelled run: %s %q", rec.Status, rec.Error)
	}
}

func TestScrubbedEnv(t *testing.T) {
	env := track.ScrubbedEnv([]string{"HOME=/home/me", "PGPASSWORD=hunter22", "GITHUB_TOKEN=ghp_x", "MY_SECRET_THING=s",
		"AWS_ACCESS_KEY_ID=AK", "AELAB_DB=postgres://bob:hunter22@db:5432/lab", "PATH=/bin"})
	if len(env) != 3 || env["HOME"] != "/home/me" || env["PATH"] != "/bin" {
		t.Errorf("env %v", env)
	}
	for k, v := range env {
		if strings.Contains(k+v, "hunter22") {
			t.Errorf("%s=%s keeps the password", k, v)
		}
	}
}

func TestParseMetricLineRefusesBadInput(t *testing.T) {
	for _, line := range []string{
		"loss=inf", "loss=1e999", "loss=abc", "epoch=-1 loss=1", "epoch=1.5 loss=1", "step=1 step=2 loss=1",
		"loss=1 loss=2", "9loss=1", "lo\x1bss=1", strings.Repeat("a", 101) + "=1", "ss=1 x=2=3",
	} {
		if m, ok, bad := track.ParseMetricLine(line); ok || len(m.Values) > 0 || (!bad && strings.Count(line, "=") == len(strings.Fields(line))) {
			t.Errorf("%q: ok %v bad %v %v", line, ok, bad, m.Values)
		}
	}
	for _, line := range []string{"hello world", "", "Epoch 3/10 loss: 0.2", strings.Repeat("x=1 ", 2000)} {
		if _, ok, bad := track.ParseMetricLine(line); ok || bad {
			t.Errorf("%q is not a metrics line: ok %v bad %v", line[:min(len(line), 30)], ok, bad)
		}
	}
}
