package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aelab/aelab/internal/pglocal"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/internal/testenv"
	"github.com/aelab/aelab/tracker"
)

// dumpDatabase is every row of every table of the database at url, as text.
func dumpDatabase(t *testing.T, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT row_to_json(t)::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		dump.WriteString(table + "\n" + strings.Join(lines, "\n") + "\n")
	}
	return dump.String()
}

// Issue #11: the CLI on a PostgreSQL store (--db URL and AELAB_DB): train, list, show,
// compare, export, tag, report; checkpoints under the artifact root, recorded relative to
// it. The password appears nowhere: in no output, and nowhere in the store (env.command
// holds the command line that carried it).
func TestCLIOnPostgres(t *testing.T) {
	dbURL := pgtest.Shared(t).NewDatabase(t)
	u, _ := url.Parse(dbURL)
	password, _ := u.User.Password()
	artifacts := t.TempDir()
	t.Setenv("AELAB_ARTIFACTS", artifacts)
	t.Chdir(t.TempDir())
	var output strings.Builder
	run := func(args ...string) (int, string) {
		t.Helper()
		code, stdout, stderr := runAelab(t, args...)
		output.WriteString(stdout + stderr)
		return code, stdout + stderr
	}
	train := []string{"train", "--db", dbURL, "--epochs", "1", "--subset", "300", "--test-subset", "256", "--progress=false"}
	saved := os.Args
	os.Args = append([]string{"aelab"}, train...) // what env.command records
	code, out := run(train...)
	os.Args = saved
	if code != 0 {
		t.Fatalf("train on PostgreSQL: exit %d\n%s", code, out)
	}
	t.Setenv("AELAB_DB", dbURL)
	if code, out = run("train", "--model", "deep", "--epochs", "1", "--subset", "300", "--test-subset", "256", "--progress=false"); code != 0 {
		t.Fatalf("train with AELAB_DB: exit %d\n%s", code, out)
	}
	store, err := tracker.OpenReadOnly(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracker.Search{OrderBy: "attributes.start_time asc"})
	if err != nil || len(runs) != 2 || runs[0].Status != tracker.StatusFinished || runs[1].Params["model"] != "deep" {
		t.Fatalf("runs %v, %v", runs, err)
	}
	ckpt := filepath.Join(artifacts, "checkpoints", runs[0].ID)
	if len(runs[0].Artifacts) != 1 || runs[0].Artifacts[0].Path != ckpt {
		t.Errorf("artifacts %+v, want %s", runs[0].Artifacts, ckpt)
	}
	if _, err := os.Stat(filepath.Join(ckpt)); err != nil {
		t.Errorf("checkpoint: %v", err)
	}
	a, b := runs[0].ShortID(), runs[1].ShortID()
	for _, args := range [][]string{
		{"runs", "list"}, {"runs", "list", "--where", `params.model = "deep" and metrics.val_bce < 1`},
		{"runs", "show", a}, {"runs", "compare", a, b}, {"runs", "export", "--json"}, {"experiments", "list"},
		{"runs", "tag", a, "note=on-postgres"}, {"runs", "list", "-h"}, {"report", "--out", t.TempDir(), "--no-grids"},
	} {
		if code, out := run(args...); code != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if _, out := run("runs", "list", "--where", `tags.note = "on-postgres"`); !strings.Contains(out, a) {
		t.Errorf("tag not found:\n%s", out)
	}
	// reproduce reads the stored config from PostgreSQL and logs the new run there; the same
	// seed on the same backend gives the same validation loss.
	code, out = run("runs", "reproduce", a, "--progress=false")
	if code != 0 || !strings.Contains(out, "reproduces "+a) || !regexp.MustCompile(`val_bce\s+\S+\s+\S+\s+\+0\s`).MatchString(out) {
		t.Errorf("runs reproduce: exit %d\n%s", code, out)
	}
	// delete hides a run from the list and keeps it for --all.
	if code, out := run("runs", "delete", b); code != 0 {
		t.Errorf("runs delete: exit %d\n%s", code, out)
	}
	if _, out := run("runs", "list"); strings.Contains(out, b) || !strings.Contains(out, a) {
		t.Errorf("after runs delete %s:\n%s", b, out)
	}
	if _, out := run("runs", "list", "--all"); !strings.Contains(out, b) || !strings.Contains(out, "(deleted)") {
		t.Errorf("runs list --all does not show the deleted run:\n%s", out)
	}
	after, err := store.SearchRuns(tracker.Search{IncludeDeleted: true, OrderBy: "attributes.start_time asc"})
	if err != nil || len(after) != 3 || !after[1].Deleted || after[2].Status != tracker.StatusFinished ||
		after[2].Params["model"] != "vanilla" || after[2].Params["train_subset"] != "300" {
		t.Errorf("after reproduce and delete: %d runs, %v; want the deleted deep run and a FINISHED vanilla reproduction", len(after), err)
	}
	if strings.Contains(output.String(), password) {
		t.Errorf("the password is in the output:\n%s", output.String())
	}
	if !strings.Contains(output.String(), tracker.RedactURL(dbURL)) {
		t.Errorf("the output never names the store %s", tracker.RedactURL(dbURL))
	}
	dump := dumpDatabase(t, dbURL)
	if strings.Contains(dump, password) {
		t.Errorf("the password is stored in the database")
	}
	if cmd := runs[0].Tags["env.command"]; !strings.Contains(cmd, "--db postgres://") || !strings.Contains(cmd, ":***@") {
		t.Errorf("env.command %q", cmd)
	}
	if !strings.Contains(dump, `"path":"checkpoints/`+runs[0].ID+`"`) {
		t.Errorf("checkpoint path not recorded relative to the artifact root")
	}
}

// Issue #11: real `aelab train` processes on a PostgreSQL store, killed mid-run. Seen from
// another host (which cannot check the trainer's pid), SIGKILL makes the run LOST by its
// heartbeat; SIGINT ends it KILLED. Both keep the epochs logged before.
func TestTrainingKilledOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	srv := pgtest.Shared(t)
	for _, tc := range []struct {
		signal syscall.Signal
		want   tracker.Status
		reason string
	}{{syscall.SIGKILL, tracker.StatusLost, "no heartbeat from trainer-host since "}, {syscall.SIGINT, tracker.StatusKilled, "interrupted: "}} {
		t.Run(tc.signal.String(), func(t *testing.T) {
			dbURL := srv.NewDatabase(t)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "AELAB_HOSTNAME=trainer-host", "AELAB_ARTIFACTS="+t.TempDir(),
				childEnv+"=train --model vanilla --epochs 1000 --subset 1024 --test-subset 256 --progress=false --db "+dbURL)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			t.Setenv("AELAB_HOSTNAME", "reader-host")
			store, err := tracker.Open(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			store.SetLostAfter(time.Second)
			run := waitForRun(t, store, func(r *tracker.RunRecord) bool {
				h, _ := store.MetricHistory(r.ID, "val_bce")
				return len(h) >= 2
			})
			killed := time.Now()
			cmd.Process.Signal(tc.signal)
			cmd.Wait()
			run = waitForRun(t, store, func(r *tracker.RunRecord) bool { return r.Status != tracker.StatusRunning })
			t.Logf("%s: %s after %v", tc.signal, run.Status, time.Since(killed).Round(100*time.Millisecond))
			if run.Status != tc.want || !strings.HasPrefix(run.Error, tc.reason) {
				t.Errorf("after %s: %s %q, want %s %q…", tc.signal, run.Status, run.Error, tc.want, tc.reason)
			}
			if hist, err := store.MetricHistory(run.ID, "val_bce"); err != nil || len(hist) < 2 {
				t.Errorf("epochs kept: %d, %v", len(hist), err)
			}
		})
	}
}

// waitForRun waits until the store's one run satisfies ok, and returns it.
func waitForRun(t *testing.T, store *tracker.Store, ok func(*tracker.RunRecord) bool) *tracker.RunRecord {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if runs, err := store.SearchRuns(tracker.Search{}); err == nil && len(runs) == 1 && ok(runs[0]) {
			return runs[0]
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("timed out waiting for the run")
	return nil
}

// Issue #11: runs push copies the local runs (and their checkpoints) to a shared
// PostgreSQL store, once; runs pull brings them into another local store.
func TestRunsPushPull(t *testing.T) {
	local := filepath.Join(t.TempDir(), "laptop", "aelab.db")
	shared := pgtest.Shared(t).NewDatabase(t)
	sharedArtifacts := t.TempDir()
	if code, _, stderr := runAelab(t, "train", "--db", local, "--epochs", "1", "--subset", "300", "--test-subset", "256", "--progress=false"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	code, out, stderr := runAelab(t, "runs", "push", "--db", local, "--to", shared, "--to-artifacts", sharedArtifacts)
	if code != 0 || !strings.Contains(out, "push: 1 runs copied, 0 updated, 0 already there;") {
		t.Fatalf("push: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runAelab(t, "runs", "push", "--db", local, "--to", shared, "--to-artifacts", sharedArtifacts)
	if code != 0 || !strings.Contains(out, "push: 0 runs copied, 0 updated, 1 already there; 0 metric rows, 0 artifact files") {
		t.Errorf("second push:\n%s", out)
	}
	store, err := tracker.OpenWith(shared, tracker.Options{ReadOnly: true, ArtifactRoot: sharedArtifacts})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracker.Search{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("shared store: %v, %v", runs, err)
	}
	if _, err := os.Stat(filepath.Join(runs[0].Artifacts[0].Path, "aelab-config.json")); err != nil || !strings.HasPrefix(runs[0].Artifacts[0].Path, sharedArtifacts) {
		t.Errorf("checkpoint in the shared folder: %s, %v", runs[0].Artifacts[0].Path, err)
	}

	other := filepath.Join(t.TempDir(), "gpu-box", "aelab.db")
	code, out, stderr = runAelab(t, "runs", "pull", "--db", other, "--from", shared, "--from-artifacts", sharedArtifacts)
	if code != 0 || !strings.Contains(out, "pull: 1 runs copied") {
		t.Fatalf("pull: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(other), "checkpoints", runs[0].ID, "aelab-config.json")); err != nil {
		t.Errorf("pulled checkpoint: %v", err)
	}
	if code, out, _ := runAelab(t, "runs", "show", runs[0].ShortID(), "--db", other); code != 0 || !strings.Contains(out, runs[0].ID) {
		t.Errorf("pulled run:\n%s", out)
	}
	// Pulled without its files (the other artifact folder is empty): recorded, and a report
	// says where the checkpoint is missing instead of failing.
	third := filepath.Join(t.TempDir(), "aelab.db")
	if code, out, _ := runAelab(t, "runs", "pull", "--db", third, "--from", shared, "--from-artifacts", t.TempDir()); code != 0 || !strings.Contains(out, "its files are missing from the source's artifact folder") {
		t.Errorf("pull without files:\n%s", out)
	}
	code, out, stderr = runAelab(t, "report", "--db", third, "--out", t.TempDir(), "--images", "2")
	if code != 0 || !strings.Contains(out, "checkpoints/"+runs[0].ID+" is not on this machine (copy the store's artifact folder here") {
		t.Errorf("report with a missing checkpoint: exit %d\n%s%s", code, out, stderr)
	}
	for _, args := range [][]string{
		{"runs", "push", "--db", local}, {"runs", "push", "--db", local, "--to", shared, "--where", "metrics.x <"},
		{"runs", "pull", "--db", other, "--from", filepath.Join(t.TempDir(), "none.db")},
	} {
		if code, _, stderr := runAelab(t, args...); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

// Issue #11: `aelab db start` makes and starts a PostgreSQL server of the user's own and
// prints the AELAB_DB to use, the password kept in libpq's password file (PGPASSFILE
// honoured), never printed; the store there works with that URL alone; stop and status say
// what they do.
func TestDBStartStop(t *testing.T) {
	_, err := pglocal.Binaries()
	testenv.Need(t, err, "PostgreSQL's server (make setup installs it)")
	parent, err := os.MkdirTemp("", "aelab-dbtest-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755) // the server's user (postgres, under root) must get through
	dir := filepath.Join(parent, "pg")
	t.Cleanup(func() {
		if c, err := pglocal.Load(dir); err == nil {
			c.Remove()
		}
		os.RemoveAll(parent)
	})
	pgpass := filepath.Join(t.TempDir(), "pgpass")
	t.Setenv("PGPASSFILE", pgpass)

	code, out, stderr := runAelab(t, "db", "start", "--dir", dir)
	if code != 0 {
		t.Fatalf("db start: exit %d\n%s%s", code, out, stderr)
	}
	c, err := pglocal.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	dbURL := c.URL("", false)
	if !strings.Contains(out, "export AELAB_DB="+dbURL+"\n") || strings.Contains(out, c.Password()) {
		t.Errorf("db start said:\n%s", out)
	}
	if b, err := os.ReadFile(pgpass); err != nil || !strings.Contains(string(b), ":aelab:"+c.Password()+"\n") {
		t.Errorf("password file: %q, %v", b, err)
	}
	if code, out, stderr = runAelab(t, "db", "migrate", "--db", dbURL); code != 0 || !strings.Contains(out, "is at schema version") {
		t.Errorf("db migrate with the printed URL: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ = runAelab(t, "runs", "list", "--db", dbURL); code != 0 || !strings.Contains(out, "no runs match") {
		t.Errorf("runs list: exit %d\n%s", code, out)
	}
	if _, out, _ = runAelab(t, "db", "start", "--dir", dir); !strings.Contains(out, "already running") {
		t.Errorf("second start:\n%s", out)
	}
	if b, _ := os.ReadFile(pgpass); strings.Count(string(b), "\n") != 1 {
		t.Errorf("the password was written twice:\n%s", b)
	}
	if _, out, _ = runAelab(t, "db", "status", "--dir", dir); !strings.Contains(out, "running, port") {
		t.Errorf("status:\n%s", out)
	}
	if code, out, _ = runAelab(t, "db", "stop", "--dir", dir); code != 0 || !strings.Contains(out, "stopped the server") {
		t.Errorf("stop: exit %d\n%s", code, out)
	}
	if _, out, _ = runAelab(t, "db", "status", "--dir", dir); !strings.Contains(out, "stopped (aelab db start starts it)") {
		t.Errorf("status after stop:\n%s", out)
	}
	if code, _, _ = runAelab(t, "db", "status", "--dir", filepath.Join(parent, "none")); code != 2 {
		t.Errorf("status of no server: exit %d", code)
	}
}
