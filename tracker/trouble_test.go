package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aelab/aelab/internal/pgtest"
)

// A real PostgreSQL restart (pg_ctl restart) in the middle of a training: every
// epoch logged before, during and after it is in the store, once; LogMetrics
// never failed, and the run ends FINISHED.
func TestServerRestartLosesNoMetric(t *testing.T) {
	srv := pgtest.New(t)
	s := openAt(t, srv.NewDatabase(t), CurrentSchemaVersion)
	r := mustStart(t, s, RunSpec{Name: "through-restart"})
	const epochs = 60
	var restartErr error
	var wg sync.WaitGroup
	var slowest time.Duration
	for epoch := 1; epoch <= epochs; epoch++ {
		if epoch == 10 {
			wg.Add(1)
			go func() { defer wg.Done(); restartErr = srv.Restart() }()
		}
		start := time.Now()
		if err := r.LogMetrics(map[string]float64{"train_loss": 1 / float64(epoch), "val_bce": 2 / float64(epoch)}, int64(epoch*100), epoch); err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
		slowest = max(slowest, time.Since(start))
		time.Sleep(50 * time.Millisecond) // the rest of the epoch's training
	}
	wg.Wait()
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	if err := r.Finish(StatusFinished, ""); err != nil {
		t.Fatal(err)
	}
	t.Logf("slowest LogMetrics: %v", slowest)
	got, err := s.GetRun(r.ID())
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.MetricHistories(r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusFinished || got.Error != "" || len(h["train_loss"]) != epochs || len(h["val_bce"]) != epochs {
		t.Fatalf("status %s %q, %d train_loss and %d val_bce points, want %d each", got.Status, got.Error, len(h["train_loss"]), len(h["val_bce"]), epochs)
	}
	for i, p := range h["val_bce"] {
		if p.Epoch != i+1 || p.Value != 2/float64(i+1) {
			t.Fatalf("point %d: %+v", i, p)
		}
	}
}

// syncBuffer is a buffer that the run's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSuffix(b.b.String(), "\n"), "\n")
}

// Issue 19, item 15: a PostgreSQL server that stops mid-run and never comes back. The run
// says at once, in one line, that the store is unreachable and that it keeps its metrics;
// training goes on; Finish, once the flush timeout is over, names the epochs not written in
// order, and saves the run (record, every metric value, the final ones too, and its
// artifact) to a store file of its own, which Copy (aelab runs push) brings to the store
// once it is back.
func TestServerGoneForGoodSavesTheRun(t *testing.T) {
	srv := pgtest.New(t)
	loc := srv.NewDatabase(t)
	root := t.TempDir()
	s, err := OpenWith(loc, Options{ArtifactRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var notices syncBuffer
	s.SetNotices(&notices)
	r := mustStart(t, s, RunSpec{Experiment: "outage", Name: "orphaned", Config: json.RawMessage(`{"epochs":6}`),
		Params: map[string]string{"model": "vanilla"}, Tags: map[string]string{"team": "a"}})
	if err := r.SetTag("stage", "train"); err != nil {
		t.Fatal(err)
	}
	epoch := func(e int) {
		t.Helper()
		if err := r.LogMetrics(map[string]float64{"val_bce": 1 / float64(e), "train_loss": 2 / float64(e)}, int64(e*100), e); err != nil {
			t.Fatalf("epoch %d: %v", e, err)
		}
	}
	for e := 1; e <= 3; e++ {
		epoch(e)
	}
	if err := srv.Cluster.Stop(false); err != nil {
		t.Fatal(err)
	}
	for e := 4; e <= 6; e++ {
		epoch(e)
	}
	if err := r.LogMetrics(map[string]float64{"test_mse": 0.01, "test_ssim": 0.9}, 600, 6); err != nil {
		t.Fatalf("final metrics: %v", err)
	}
	ckpt := filepath.Join(root, "checkpoints", "orphaned")
	if err := os.MkdirAll(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ckpt, "weights.bin"), []byte("weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.LogArtifact("checkpoint", ckpt, "weights"); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	said := notices.lines()
	wantNotice := "aelab: store " + RedactURL(loc) + " unreachable ("
	if len(said) != 1 || !strings.HasPrefix(said[0], wantNotice) ||
		!strings.HasSuffix(said[0], "): run "+r.ID()[:8]+" keeps its metrics in memory and writes them once the store is back; training goes on") {
		t.Errorf("notices while training:\n%s\nwant one line: %s…): run %s keeps its metrics in memory…", strings.Join(said, "\n"), wantNotice, r.ID()[:8])
	}

	s.SetFlushTimeout(500 * time.Millisecond)
	err = r.Finish(StatusFinished, "")
	spill := filepath.Join(root, "aelab-unsent-"+r.ID()[:8]+".db")
	for _, want := range []string{
		"tracker: run " + r.ID()[:8] + ": not recorded as FINISHED (",
		"; 8 metric values of epochs 4–6 and 1 artifact record not written (",
		"; the run is saved in " + spill + " with all it logged: once the store is back, aelab runs push --db " + spill + " --to " + RedactURL(loc) + " --overwrite (",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Finish: %v\nwant …%s…", err, want)
		}
	}
	if pw := srv.Password(); strings.Contains(err.Error(), pw) || strings.Contains(strings.Join(notices.lines(), "\n"), pw) {
		t.Error("the password was printed")
	}
	if said = notices.lines(); len(said) != 2 || !strings.HasPrefix(said[1], "aelab: waiting up to 500ms for store "+RedactURL(loc)+" to take run "+r.ID()[:8]+"'s 8 kept metric values") {
		t.Errorf("notices after Finish:\n%s", strings.Join(said, "\n"))
	}

	saved, err := OpenExisting(spill)
	if err != nil {
		t.Fatal(err)
	}
	defer saved.Close()
	checkRun := func(where string, st *Store) {
		t.Helper()
		got, err := st.GetRun(r.ID())
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if got.Status != StatusFinished || got.Error != "" || got.Experiment != "outage" || got.Name != "orphaned" ||
			string(got.Config) != `{"epochs":6}` || got.Params["model"] != "vanilla" || got.Tags["team"] != "a" || got.Tags["stage"] != "train" {
			t.Errorf("%s: the run's record: %+v", where, got)
		}
		if len(got.Artifacts) != 1 || got.Artifacts[0].Path != ckpt {
			t.Errorf("%s: artifacts %+v", where, got.Artifacts)
		}
		h, err := st.MetricHistories(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(h["val_bce"]) != 6 || len(h["train_loss"]) != 6 || len(h["test_mse"]) != 1 || h["test_mse"][0].Value != 0.01 || h["test_ssim"][0].Epoch != 6 {
			t.Errorf("%s: histories %v", where, h)
		}
		for i, p := range h["val_bce"] {
			if p.Epoch != i+1 || p.Value != 1/float64(i+1) {
				t.Errorf("%s: val_bce point %d: %+v", where, i, p)
			}
		}
	}
	checkRun("the spill file", saved)

	// The server is back (on another port): pushing the file completes the run there.
	if err := srv.Cluster.Start(); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	target, err := OpenWith(srv.URL(strings.TrimPrefix(u.Path, "/"), true), Options{MustExist: true, ArtifactRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if before, err := target.MetricHistory(r.ID(), "val_bce"); err != nil || len(before) != 3 {
		t.Fatalf("the store before the push: %d val_bce points, %v", len(before), err)
	}
	if _, err := Copy(context.Background(), target, saved, CopyOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	checkRun("the store after the push", target)
}

// Two hosts share a store: a reader on another host tells a live run from a
// dead one by its heartbeat alone (it cannot see the other host's pids); a
// reader on the run's own host sees at once that the process is gone.
func TestHeartbeatAcrossHosts(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		loc := b.newLocation(t)
		c, id := startHelper(t, loc, []string{"AELAB_HOSTNAME=host-a", "AELAB_TRACKER_TEST_HEARTBEAT=100ms"})
		t.Setenv("AELAB_HOSTNAME", "host-b")
		s := openAt(t, loc, CurrentSchemaVersion)
		s.SetLostAfter(time.Second)
		time.Sleep(1500 * time.Millisecond) // longer than lost-after: only the beats keep it alive
		r, err := s.GetRun(id)
		if err != nil || r.Status != StatusRunning || r.OwnerHost != "host-a" {
			t.Fatalf("live run on host-a seen from host-b: %s %q (%v)", r.Status, r.Error, err)
		}
		c.Process.Kill()
		c.Wait()
		killed := time.Now()
		deadline := time.Now().Add(10 * time.Second)
		for r.Status == StatusRunning && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			if r, err = s.GetRun(id); err != nil {
				t.Fatal(err)
			}
		}
		if r.Status != StatusLost || !strings.HasPrefix(r.Error, "no heartbeat from host-a since ") {
			t.Fatalf("killed run seen from host-b: %s %q", r.Status, r.Error)
		}
		t.Logf("LOST %v after the kill", time.Since(killed).Round(time.Millisecond))
		if h, _ := s.MetricHistory(id, "val_loss"); len(h) != 2 {
			t.Errorf("the lost run's epochs: %v", h)
		}

		// On the run's own host a dead pid is enough, without waiting for the heartbeat.
		c, id = startHelper(t, loc, []string{"AELAB_HOSTNAME=host-a"})
		c.Process.Kill()
		c.Wait()
		t.Setenv("AELAB_HOSTNAME", "host-a")
		if r, err = s.GetRun(id); err != nil || r.Status != StatusLost || r.Error != fmt.Sprintf("process %d on host-a is gone", c.Process.Pid) {
			t.Errorf("killed run seen from host-a: %s %q (%v)", r.Status, r.Error, err)
		}
	})
}
