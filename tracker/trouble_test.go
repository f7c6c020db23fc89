package tracker

import (
	"fmt"
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

// When the server never comes back, Finish says which epochs were not written.
func TestServerGoneSaysWhatWasLost(t *testing.T) {
	srv := pgtest.New(t)
	s := openAt(t, srv.NewDatabase(t), CurrentSchemaVersion)
	r := mustStart(t, s, RunSpec{Name: "orphaned"})
	if err := r.LogMetrics(map[string]float64{"val_bce": 0.5}, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for epoch := 2; epoch <= 4; epoch++ {
		if err := r.LogMetrics(map[string]float64{"val_bce": 0.4, "train_loss": 0.3}, int64(epoch), epoch); err != nil {
			t.Fatalf("epoch %d with the server gone: %v", epoch, err)
		}
	}
	s.SetFlushTimeout(500 * time.Millisecond)
	err := r.Finish(StatusFinished, "")
	want := "tracker: run " + r.ID()[:8] + ": not recorded as FINISHED ("
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "; 6 metric values of epochs 2–4 not written (") {
		t.Errorf("Finish: %v\nwant %s…; 6 metric values of epochs 2–4 not written (…", err, want)
	}
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
