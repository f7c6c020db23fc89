package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// killSpec is a sweep of six small trials, each a few seconds long, with a trial timeout
// short enough that River rescues a dead worker's trial within a minute.
const killSpec = `name: kill-test
model: vanilla
base: {epochs: 4, subset: 3000, test-subset: 500, batch: 64}
parameters:
  lr: [0.001, 0.002, 0.003]
  widths: ["64,16", "32,8"]
trial_timeout: 25s # a genuine trial takes seconds; a loaded CI machine gets room
`

// aelabProcess is this test binary run as `aelab ARGS` (see TestMain), optionally through a
// prefix such as `ip netns exec w1`.
type aelabProcess struct {
	cmd *exec.Cmd
	out *syncBuffer
}

func startAelab(t *testing.T, prefix []string, args ...string) *aelabProcess {
	t.Helper()
	argv := append(append([]string{}, prefix...), os.Args[0], "-test.run=^$")
	p := &aelabProcess{cmd: exec.Command(argv[0], argv[1:]...), out: &syncBuffer{}}
	p.cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, " "))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	return p
}

// workerName is how a worker process tags its trials: host:pid.
func (p *aelabProcess) workerName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, p.cmd.Process.Pid)
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningTrial returns a RUNNING run of the sweep trained by worker that has logged an epoch.
func runningTrial(store *tracker.Store, sweepID, worker string) *tracker.RunRecord {
	runs, err := store.SweepRuns(sweepID, -1)
	if err != nil {
		return nil
	}
	for _, r := range runs {
		if r.Status == tracker.StatusRunning && r.Tags[tracker.TagSweepWorker] == worker {
			if h, _ := store.MetricHistory(r.ID, "val_bce"); len(h) >= 1 {
				return r
			}
		}
	}
	return nil
}

// sweepDone reports whether no trial of the sweep is queued or running.
func sweepDone(t *testing.T, store *tracker.Store, sweepID string) bool {
	st, err := sweeps.Status(context.Background(), store, sweepID)
	if err != nil {
		t.Logf("status: %v", err)
		return false
	}
	return st.Counts[trial.Queued] == 0 && st.Counts[trial.Running] == 0
}

// checkKilledSweep asserts what a sweep with one worker killed mid-trial must end as: every
// trial FINISHED exactly once, the killed trial's first run LOST and linked to a FINISHED
// retry on another worker, no trial's runs overlapping in time, and the report listing every
// trial. It returns how many retries there were.
func checkKilledSweep(t *testing.T, store *tracker.Store, sweepID string, killed *tracker.RunRecord, killedWorker string) int {
	t.Helper()
	sw, err := store.GetSweep(sweepID)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := store.SweepRuns(sweepID, -1)
	if err != nil {
		t.Fatal(err)
	}
	byTrial := map[string][]*tracker.RunRecord{}
	for _, r := range runs {
		byTrial[r.Tags[tracker.TagSweepTrial]] = append(byTrial[r.Tags[tracker.TagSweepTrial]], r)
	}
	retries := 0
	for _, trial := range sw.Trials {
		rs := byTrial[strconv.Itoa(trial.Index)]
		finished := 0
		for i, r := range rs {
			if r.Status == tracker.StatusFinished {
				finished++
			}
			for _, o := range rs[i+1:] { // runs of one trial never overlap: the later starts after the earlier ended
				if r.EndTime.IsZero() || o.StartTime.Before(r.EndTime) {
					t.Errorf("trial %d: runs %s [%s, %s] and %s [%s, …] overlap", trial.Index, r.ShortID(),
						r.StartTime.Format(time.StampMilli), r.EndTime.Format(time.StampMilli), o.ShortID(), o.StartTime.Format(time.StampMilli))
				}
			}
		}
		if finished != 1 {
			t.Errorf("trial %d: %d FINISHED runs, want exactly 1 (runs: %d)", trial.Index, finished, len(rs))
		}
		if len(rs) > 1 {
			retries += len(rs) - 1
		}
	}
	if retries != 1 {
		t.Errorf("%d retries, want 1 (the killed trial)", retries)
	}
	dead, err := store.GetRun(killed.ID)
	if err != nil {
		t.Fatal(err)
	}
	retryID := dead.Tags[tracker.TagSweepRetriedBy]
	if dead.Status != tracker.StatusLost || retryID == "" {
		t.Fatalf("killed trial's run %s: %s, retried_by %q; want LOST and linked to its retry", dead.ShortID(), dead.Status, retryID)
	}
	retry, err := store.GetRun(retryID)
	if err != nil {
		t.Fatal(err)
	}
	if retry.Status != tracker.StatusFinished || retry.Tags[tracker.TagSweepRetryOf] != dead.ID || retry.Tags[tracker.TagSweepWorker] == killedWorker ||
		retry.Tags[tracker.TagSweepTrial] != dead.Tags[tracker.TagSweepTrial] || retry.Tags[tracker.TagSweepAttempt] != "2" {
		t.Errorf("retry %s: %s, tags %v; want FINISHED on another worker, retry_of %s, attempt 2", retry.ShortID(), retry.Status, retry.Tags, dead.ShortID())
	}
	rep, err := reports.BuildSweep(store, sweepID, reports.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown()
	for _, tr := range sw.Trials {
		if !strings.Contains(md, "| "+strconv.Itoa(tr.Index)+" | "+tr.Params["lr"]+" | "+tr.Params["widths"]+" | "+string(trial.Finished)+" |") {
			t.Errorf("report lacks trial %d as %s:\n%s", tr.Index, trial.Finished, md)
		}
	}
	if rep.Best == nil || len(rep.Figures) < 3 {
		t.Errorf("report: best %v, %d figures", rep.Best, len(rep.Figures))
	}
	return retries
}

// TestWorkerKilledMidTrialIsRescued runs a sweep on two `aelab worker` processes sharing a
// SQLite store, kills one with SIGKILL in the middle of a trial, and checks that River rescues
// the trial onto the other worker as a new run while the dead run reads LOST. The other
// worker then stops on SIGTERM.
func TestWorkerKilledMidTrialIsRescued(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in child processes for about a minute")
	}
	killScenario(t, filepath.Join(t.TempDir(), "aelab.db"), nil, nil)
}

// killScenario creates killSpec's sweep in the store db from this process, starts a worker on
// host a (a command prefix such as `ip netns exec w1`; nil: here), waits until it trains a
// trial, starts a second worker on host b, kills the first with SIGKILL, and checks the
// outcome (checkKilledSweep) and that the second worker stops on SIGTERM.
func killScenario(t *testing.T, db string, a, b []string) {
	specPath := filepath.Join(t.TempDir(), "kill.yaml")
	if err := os.WriteFile(specPath, []byte(killSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runAelab(t, "sweep", "create", specPath, "--db", db)
	if code != 0 {
		t.Fatalf("sweep create: %d\n%s%s", code, out, errOut)
	}
	store, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	list, err := store.Sweeps()
	if err != nil || len(list) != 1 {
		t.Fatalf("sweeps: %v, %v", list, err)
	}
	sweepID := list[0].ID
	start := time.Now()
	victim := startAelab(t, a, "worker", "--db", db, "--progress=false")
	var killed *tracker.RunRecord
	waitFor(t, 2*time.Minute, "the first worker to train a trial", func() bool {
		killed = runningTrial(store, sweepID, victim.workerName())
		return killed != nil
	})
	survivor := startAelab(t, b, "worker", "--db", db, "--progress=false")
	victim.cmd.Process.Signal(syscall.SIGKILL)
	victim.cmd.Wait()
	waitFor(t, 3*time.Minute, "every trial to end", func() bool { return sweepDone(t, store, sweepID) })
	t.Logf("6 trials, one worker killed mid-trial: done in %s", time.Since(start).Round(time.Second))
	checkKilledSweep(t, store, sweepID, killed, victim.workerName())

	survivor.cmd.Process.Signal(syscall.SIGTERM)
	if err := survivor.cmd.Wait(); err != nil || !strings.Contains(survivor.out.String(), "stopped") {
		t.Errorf("worker on SIGTERM: %v\n%s", err, survivor.out.String())
	}
	if t.Failed() {
		t.Logf("killed worker:\n%s\nsurviving worker:\n%s", victim.out.String(), survivor.out.String())
	}
}

// TestWorkerStopsOnSIGTERM: on SIGTERM a worker takes no new trial and finishes the one it
// trains; with --stop-timeout it hands the trial back instead (its run KILLED), and the next
// worker trains it again as a new run linked to the handed-back one.
func TestWorkerStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	dir := t.TempDir()
	db, specPath := filepath.Join(dir, "aelab.db"), filepath.Join(dir, "term.yaml")
	if err := os.WriteFile(specPath, []byte(`name: term-test
model: vanilla
base: {epochs: 6, subset: 3000, test-subset: 500, batch: 64}
parameters:
  lr: [0.001, 0.002]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runAelab(t, "sweep", "create", specPath, "--db", db); code != 0 {
		t.Fatalf("sweep create: %d\n%s%s", code, out, errOut)
	}
	store, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	list, _ := store.Sweeps()
	sweepID := list[0].ID

	// SIGTERM: the running trial finishes, the other one is not taken.
	w := startAelab(t, nil, "worker", "--db", db, "--progress=false")
	var first *tracker.RunRecord
	waitFor(t, 2*time.Minute, "a trial to train", func() bool { first = runningTrial(store, sweepID, w.workerName()); return first != nil })
	w.cmd.Process.Signal(syscall.SIGTERM)
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("worker after SIGTERM: %v\n%s", err, w.out.String())
	}
	if r, _ := store.GetRun(first.ID); r.Status != tracker.StatusFinished {
		t.Errorf("the trial running at SIGTERM: %s %q, want FINISHED", r.Status, r.Error)
	}
	if runs, _ := store.SweepRuns(sweepID, -1); len(runs) != 1 {
		t.Errorf("%d runs after SIGTERM, want 1: the stopping worker took another trial", len(runs))
	}

	// SIGTERM with --stop-timeout: the trial is handed back, and the next worker retrains it.
	w = startAelab(t, nil, "worker", "--db", db, "--progress=false", "--stop-timeout", "500ms")
	var second *tracker.RunRecord
	waitFor(t, 2*time.Minute, "the second trial to train", func() bool { second = runningTrial(store, sweepID, w.workerName()); return second != nil })
	w.cmd.Process.Signal(syscall.SIGTERM)
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("worker after SIGTERM: %v\n%s", err, w.out.String())
	}
	handed, _ := store.GetRun(second.ID)
	if handed.Status != tracker.StatusKilled || handed.Error != "worker stopped: trial handed back to the queue" {
		t.Errorf("handed-back trial: %s %q", handed.Status, handed.Error)
	}
	st, err := sweeps.Status(context.Background(), store, sweepID)
	if err != nil || st.Counts[trial.Queued] != 1 {
		t.Fatalf("after the hand-back: %v, %v; want the trial queued again", st.Counts, err)
	}
	w = startAelab(t, nil, "worker", "--db", db, "--progress=false")
	waitFor(t, 2*time.Minute, "the handed-back trial to finish", func() bool { return sweepDone(t, store, sweepID) })
	retry, _ := store.GetRun(handed.ID)
	again, err := store.GetRun(retry.Tags[tracker.TagSweepRetriedBy])
	if err != nil || again.Status != tracker.StatusFinished || again.Tags[tracker.TagSweepRetryOf] != handed.ID {
		t.Errorf("retry of the handed-back trial: %v, %v", again, err)
	}
}

// A worker that cannot reach its store says so and retries with backoff instead of exiting,
// without showing the password of the store's URL.
func TestWorkerRetriesAnUnreachableStore(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String() // nobody listens there: connection refused
	ln.Close()
	w := startAelab(t, nil, "worker", "--db", "postgres://aelab:hunter2-secret@"+closed+"/aelab")
	waitFor(t, time.Minute, "two attempts", func() bool { return strings.Count(w.out.String(), "cannot reach the store") >= 2 })
	out := w.out.String()
	if !strings.Contains(out, "retrying in 1s") || !strings.Contains(out, "retrying in 2s") {
		t.Errorf("no backoff in:\n%s", out)
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	if err := w.cmd.Wait(); err == nil || !strings.Contains(w.out.String(), "gave up reaching the store") {
		t.Errorf("after SIGTERM: %v\n%s", err, w.out.String())
	}
	if strings.Contains(w.out.String(), "hunter2") {
		t.Errorf("the password shows:\n%s", w.out.String())
	}
}

// A worker pointed at no store, another program's database or a store of a newer aelab
// stops at once with one line and exit 2 (it used to retry forever, and a mistyped path
// left an empty store behind); nothing is created or changed.
func TestWorkerRefusesABadStore(t *testing.T) {
	dir := t.TempDir()
	shop, shopBytes := shopDatabase(t, dir)
	missing := filepath.Join(dir, "typo", "aelab.db")
	for db, want := range map[string]string{
		missing: "no experiment store at " + missing,
		shop:    "is not an aelab store: it has tables customers, orders",
	} {
		code, stdout, stderr := runAelab(t, "worker", "--db", db)
		if code != 2 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "retrying") {
			t.Errorf("worker --db %s: exit %d, stderr %q, stdout %q; want exit 2, one line with %q", db, code, stderr, stdout, want)
		}
	}
	if b, _ := os.ReadFile(shop); !bytes.Equal(b, shopBytes) {
		t.Error("the other program's database changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only shop.db", len(entries))
	}
}
