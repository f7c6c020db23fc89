package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMigrationsMatchVersion(t *testing.T) {
	for _, d := range []*dialect{sqliteDialect, postgresDialect} {
		if len(d.migrations) != CurrentSchemaVersion {
			t.Errorf("%s: %d migrations for schema version %d", d.name, len(d.migrations), CurrentSchemaVersion)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		cfg := json.RawMessage(`{"model":"deep","widths":[128,64,32],"epochs":3}`)
		r := mustStart(t, s, RunSpec{Experiment: "deep", Name: "d1", Source: "test", Config: cfg,
			Params: map[string]string{"model": "deep", "epochs": "3"}, Tags: map[string]string{"env.go": "1.26"}})
		for e := 1; e <= 3; e++ {
			if err := r.LogMetrics(map[string]float64{"train_loss": 1 / float64(e), "val_loss": 2 / float64(e)}, int64(e*10), e); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.LogMetric("val_loss", 99, 5, 0); err != nil { // an older step does not replace the latest
			t.Fatal(err)
		}
		if err := r.LogMetric("nan_metric", math.NaN(), 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := r.LogParams(map[string]string{"lr": "0.001"}); err != nil {
			t.Fatal(err)
		}
		if err := r.SetTag("note", "hello"); err != nil {
			t.Fatal(err)
		}
		if err := r.LogArtifact("checkpoint", "/tmp/ckpt", "final weights"); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(StatusFailed, "second call is ignored"); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRun(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusFinished || got.Error != "" || got.EndTime.IsZero() {
			t.Errorf("status %s error %q end %v", got.Status, got.Error, got.EndTime)
		}
		if got.Experiment != "deep" || got.Name != "d1" || got.Source != "test" {
			t.Errorf("record %+v", got)
		}
		if string(got.Config) != string(cfg) {
			t.Errorf("config %s", got.Config)
		}
		if got.Params["model"] != "deep" || got.Params["lr"] != "0.001" || got.Tags["note"] != "hello" || got.Tags["env.go"] != "1.26" {
			t.Errorf("params %v tags %v", got.Params, got.Tags)
		}
		if got.Metrics["val_loss"] != 2.0/3 || got.LatestMetrics["val_loss"].Epoch != 3 || !math.IsNaN(got.Metrics["nan_metric"]) {
			t.Errorf("metrics %v", got.Metrics)
		}
		if len(got.Artifacts) != 1 || got.Artifacts[0].Description != "final weights" {
			t.Errorf("artifacts %v", got.Artifacts)
		}
		if got.OwnerPID != os.Getpid() {
			t.Errorf("owner pid %d", got.OwnerPID)
		}
		h, err := s.MetricHistory(r.ID()[:6], "val_loss")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 4 || h[0].Step != 5 || h[3].Epoch != 3 {
			t.Errorf("history %v", h)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Errorf("record does not marshal (NaN?): %v", err)
		}
	})
}

func TestFailAndBadStatus(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		r := mustStart(t, s, RunSpec{})
		if err := r.Finish(StatusLost, ""); err == nil {
			t.Error("Finish(LOST) accepted")
		}
		if err := r.Fail(fmt.Errorf("loss is NaN at step 3")); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetRun(r.ID())
		if got.Status != StatusFailed || got.Error != "loss is NaN at step 3" || got.Experiment != "Default" {
			t.Errorf("%s %q %s", got.Status, got.Error, got.Experiment)
		}
		if _, err := s.StartRun(RunSpec{Config: json.RawMessage("{oops")}); err == nil {
			t.Error("invalid config JSON accepted")
		}
	})
}

func TestPrefixLookup(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		// Fix the ids so that prefixes collide.
		ids := []string{"abc11111-0000-4000-8000-000000000000", "abc22222-0000-4000-8000-000000000000"}
		for _, id := range ids {
			r := mustStart(t, s, RunSpec{})
			r.Finish(StatusFinished, "")
			if _, err := s.exec(`UPDATE runs SET id = ? WHERE id = ?`, id, r.ID()); err != nil {
				t.Fatal(err)
			}
		}
		if r, err := s.GetRun("abc2"); err != nil || r.ID != ids[1] {
			t.Errorf("GetRun(abc2) = %v, %v", r, err)
		}
		if r, err := s.GetRun("ABC11111-0000-4000-8000-000000000000"); err != nil || r.ID != ids[0] {
			t.Errorf("full id (upper case) = %v, %v", r, err)
		}
		if _, err := s.GetRun("abc"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
			t.Errorf("ambiguous prefix: %v", err)
		}
		if _, err := s.GetRun("fff"); err == nil || !strings.Contains(err.Error(), "no run") {
			t.Errorf("missing prefix: %v", err)
		}
		if _, err := s.GetRun("%"); err == nil {
			t.Error("GetRun(%) matched")
		}
	})
}

func TestDeleteAndExperiments(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		a := mustStart(t, s, RunSpec{Experiment: "a"})
		mustStart(t, s, RunSpec{Experiment: "a"})
		mustStart(t, s, RunSpec{Experiment: "b"})
		if err := s.DeleteRun(a.ID()); err != nil {
			t.Fatal(err)
		}
		runs, _ := s.SearchRuns(Search{})
		if len(runs) != 2 {
			t.Errorf("%d runs after delete, want 2", len(runs))
		}
		runs, _ = s.SearchRuns(Search{IncludeDeleted: true, Experiment: "a"})
		if len(runs) != 2 {
			t.Errorf("%d runs of a with deleted, want 2", len(runs))
		}
		exps, err := s.Experiments()
		if err != nil {
			t.Fatal(err)
		}
		if len(exps) != 2 || exps[0].Name != "a" || exps[0].Runs != 1 || exps[1].Runs != 1 {
			t.Errorf("experiments %+v", exps)
		}
		if err := s.UndeleteRun(a.ID()); err != nil {
			t.Fatal(err)
		}
		if runs, _ := s.SearchRuns(Search{}); len(runs) != 3 {
			t.Errorf("%d runs after undelete", len(runs))
		}
	})
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("AELAB_DB", "/x/y.db")
	if p := DefaultPath(); p != "/x/y.db" {
		t.Error(p)
	}
	t.Setenv("AELAB_DB", "")
	t.Setenv("XDG_DATA_HOME", "/data")
	if p := DefaultPath(); p != "/data/aelab/aelab.db" {
		t.Error(p)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if p := DefaultPath(); p != "/home/u/.local/share/aelab/aelab.db" {
		t.Error(p)
	}
}

func TestMigrateFromV1KeepsData(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		loc := b.newLocation(t)
		old := openAt(t, loc, 1)
		for _, q := range []string{
			`INSERT INTO experiments(id, name, created) VALUES (1, 'legacy', 1000)`,
			`INSERT INTO runs(id, experiment_id, name, status, start_time, end_time, source, config, owner_pid, owner_host)
				VALUES ('11111111-2222-4333-8444-555555555555', 1, 'old-run', 'FINISHED', 1000, 5000, 'v1', '{"a":1}', 1, 'h')`,
			`INSERT INTO params(run_id, key, value) VALUES ('11111111-2222-4333-8444-555555555555', 'model', 'vanilla')`,
			`INSERT INTO metrics(run_id, key, step, epoch, value, timestamp) VALUES ('11111111-2222-4333-8444-555555555555', 'val_loss', 1, 1, 0.25, 2000)`,
			`INSERT INTO latest_metrics(run_id, key, step, epoch, value, timestamp) VALUES ('11111111-2222-4333-8444-555555555555', 'val_loss', 1, 1, 0.25, 2000)`,
			`INSERT INTO artifacts(run_id, kind, path, created) VALUES ('11111111-2222-4333-8444-555555555555', 'checkpoint', '/c', 3000)`,
		} {
			if _, err := old.exec(q); err != nil {
				t.Fatal(q, err)
			}
		}
		old.Close()

		s := openAt(t, loc, CurrentSchemaVersion)
		if v, _ := readVersion(s.reader()); v != CurrentSchemaVersion {
			t.Errorf("version %d after open", v)
		}
		r, err := s.GetRun("1111")
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != "old-run" || r.Params["model"] != "vanilla" || r.Metrics["val_loss"] != 0.25 ||
			len(r.Artifacts) != 1 || r.Artifacts[0].Path != "/c" || string(r.Config) != `{"a":1}` ||
			r.Heartbeat.UnixMilli() != 5000 {
			t.Errorf("after migration: %+v", r)
		}
		// The new columns work.
		run := mustStart(t, s, RunSpec{Experiment: "legacy"})
		if err := run.LogArtifact("figure", "/f.png", "described"); err != nil {
			t.Fatal(err)
		}
		run.Finish(StatusFinished, "")
	})
}

func TestParallelProcesses(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		path := b.newLocation(t)
		const workers = 8
		cmds := make([]*exec.Cmd, workers)
		outs := make([]*strings.Builder, workers)
		for i := range cmds {
			c := exec.Command(os.Args[0], "-test.run=^$")
			c.Env = append(os.Environ(), helperEnv+"=log1000", "AELAB_TRACKER_TEST_DB="+path, "AELAB_TRACKER_TEST_WORKER="+strconv.Itoa(i))
			outs[i] = &strings.Builder{}
			c.Stdout, c.Stderr = outs[i], outs[i]
			cmds[i] = c
		}
		for _, c := range cmds { // start all before waiting, so they race the schema creation
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Errorf("worker %d: %v\n%s", i, err, outs[i])
			}
		}
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var n int
		if err := s.reader().queryRow(`SELECT count(*) FROM metrics`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != workers*1000 {
			t.Errorf("%d metric rows, want %d", n, workers*1000)
		}
		runs, err := s.SearchRuns(Search{Filter: `attributes.status = "FINISHED"`})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != workers {
			t.Errorf("%d finished runs, want %d", len(runs), workers)
		}
		var versions int
		s.reader().queryRow(`SELECT count(*) FROM schema_version`).Scan(&versions)
		if versions != CurrentSchemaVersion {
			t.Errorf("schema_version has %d rows, want %d (migrated twice?)", versions, CurrentSchemaVersion)
		}
	})
}

func TestKilledProcessRunIsLost(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		path := b.newLocation(t)
		id, pid := startAndKill(t, path, nil)
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		r, err := s.GetRun(id)
		if err != nil {
			t.Fatal(err)
		}
		wantReason := fmt.Sprintf("process %d on ", pid)
		if r.Status != StatusLost || !strings.Contains(r.Error, wantReason) || !strings.HasSuffix(r.Error, " is gone") {
			t.Errorf("status %s, error %q; want LOST with %q", r.Status, r.Error, wantReason)
		}
		h, err := s.MetricHistory(id, "val_loss")
		if err != nil || len(h) != 2 || h[1].Epoch != 2 {
			t.Errorf("history %v, %v", h, err)
		}
		// LOST was written to the store, so a status filter sees it.
		lost, err := s.SearchRuns(Search{Filter: "status = 'lost'"})
		if err != nil || len(lost) != 1 {
			t.Errorf("search LOST: %d, %v", len(lost), err)
		}
		var stored string
		s.reader().queryRow(`SELECT status FROM runs WHERE id = ?`, id).Scan(&stored)
		if stored != "LOST" {
			t.Errorf("stored status %s", stored)
		}
	})
}

func TestStaleHeartbeatIsLostAndHeartbeatRevives(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		s.SetHeartbeatInterval(20 * time.Millisecond)
		r := mustStart(t, s, RunSpec{})
		// Pretend the run belongs to another host and last beat an hour ago.
		old := time.Now().Add(-time.Hour)
		if _, err := s.exec(`UPDATE runs SET owner_host = 'elsewhere', heartbeat = ? WHERE id = ?`, old.UnixMilli(), r.ID()); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRun(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusLost || !strings.HasPrefix(got.Error, "no heartbeat from elsewhere since ") {
			t.Fatalf("status %s error %q", got.Status, got.Error)
		}
		// The process is alive after all: its next heartbeat brings the run back.
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, _ = s.GetRun(r.ID())
			if got.Status == StatusRunning {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still %s after heartbeats", got.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got.Error != "" || !got.EndTime.IsZero() {
			t.Errorf("revived run: error %q end %v", got.Error, got.EndTime)
		}
		if err := r.Finish(StatusKilled, "interrupt"); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetRun(r.ID())
		if got.Status != StatusKilled || got.Error != "interrupt" {
			t.Errorf("%s %q", got.Status, got.Error)
		}
	})
}

func TestLatestRunAndConcurrentWriters(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		if _, err := s.LatestRun(Search{}); !errors.Is(err, ErrNoRun) {
			t.Errorf("empty store: %v", err)
		}
		// Several goroutines of one process share the writer connection.
		done := make(chan error)
		for g := range 4 {
			go func() {
				r, err := s.StartRun(RunSpec{Experiment: "nb", Tags: map[string]string{"notebook": "02-vanilla", "g": strconv.Itoa(g)}})
				if err != nil {
					done <- err
					return
				}
				for i := range 50 {
					if err := r.LogMetrics(map[string]float64{"a": float64(i), "b": 1}, int64(i), 0); err != nil {
						done <- err
						return
					}
				}
				done <- r.Finish(StatusFinished, "")
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.LatestRun(Search{Filter: "tags.notebook = '02-vanilla'"})
		if err != nil || r.Metrics["a"] != 49 {
			t.Fatalf("latest: %v %v", r, err)
		}
		if _, err := s.GetRun("0123456789"); !errors.Is(err, ErrNoRun) {
			t.Errorf("GetRun unknown: %v", err)
		}
	})
}
