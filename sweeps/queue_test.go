package sweeps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// A trial is never enqueued twice: inserting a sweep's trials again is skipped by River.
func TestTrialsAreUniqueJobs(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	spec := mustParse(t, tinySpec)
	sw, err := Create(ctx, store, spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := openQueue(ctx, store, clientConfig{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	client := q.client
	jobs, err := sweepJobs(ctx, client, sw.ID)
	if err != nil || len(jobs) != 4 {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	var again []river.InsertManyParams
	for _, tr := range sw.Trials {
		cfg, err := spec.TrialConfig(tr)
		if err != nil {
			t.Fatal(err)
		}
		again = append(again, river.InsertManyParams{Args: TrialArgs{SweepID: sw.ID, Index: tr.Index, Config: cfg, Params: tr.Params},
			InsertOpts: &river.InsertOpts{Queue: QueueCPU, UniqueOpts: river.UniqueOpts{ByArgs: true}}})
	}
	res, err := client.InsertMany(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.UniqueSkippedAsDuplicate || r.Job.ID != jobs[i].ID {
			t.Errorf("trial %d enqueued again as job %d (duplicate skipped: %v)", i, r.Job.ID, r.UniqueSkippedAsDuplicate)
		}
	}
	if jobs, _ := sweepJobs(ctx, client, sw.ID); len(jobs) != 4 {
		t.Errorf("%d jobs after inserting the trials again, want 4", len(jobs))
	}
}

// The sweep and its trials are written in one transaction: when enqueueing fails, no sweep
// is recorded either.
func TestCreateIsOneTransaction(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	q, err := openQueue(ctx, store, clientConfig{}, true) // install River's tables
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	if _, err := q.db.Exec(`DROP TABLE river_job`); err != nil { // a damaged queue
		t.Fatal(err)
	}
	_, err = Create(ctx, store, mustParse(t, tinySpec), Options{})
	if err == nil || !strings.Contains(err.Error(), "enqueueing trials 0 to 3 of 4") {
		t.Fatalf("Create with no job table: %v", err)
	}
	if list, err := store.Sweeps(); err != nil || len(list) != 0 {
		t.Errorf("sweeps recorded although enqueueing failed: %v, %v", list, err)
	}
}

// Cancelling a sweep cancels its queued trials and stops the running one, whose run ends
// KILLED "sweep cancelled".
func TestCancelStopsRunningAndQueuedTrials(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	spec := mustParse(t, `
name: cancel-me
model: vanilla
base: {epochs: 500, subset: 1000, test-subset: 256}
parameters: {lr: [0.001, 0.002, 0.003]}
`)
	done := make(chan error, 1)
	var swID string
	created := make(chan string, 1)
	go func() {
		w, err := NewWorker(ctx, store, WorkerOptions{})
		if err != nil {
			done <- err
			return
		}
		sw, err := create(ctx, store, w.client, spec, Options{})
		if err != nil {
			done <- err
			return
		}
		created <- sw.ID
		if err := w.Start(ctx); err != nil {
			done <- err
			return
		}
		err = waitDone(ctx, w.client, sw.ID)
		w.Stop(ctx)
		done <- err
	}()
	select {
	case swID = <-created:
	case err := <-done:
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		runs, _ := store.SweepRuns(swID, -1)
		if len(runs) == 1 {
			if h, _ := store.MetricHistory(runs[0].ID, "val_bce"); len(h) > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no trial started training")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, err := Cancel(ctx, store, swID[:8])
	if err != nil || c.Unfinished != 3 || !c.Before.IsZero() {
		t.Fatalf("Cancel: %+v, %v", c, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the cancelled trial did not stop")
	}
	runs, err := store.SweepRuns(swID, -1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	if runs[0].Status != tracker.StatusKilled || runs[0].Error != "sweep cancelled" {
		t.Errorf("running trial: %s %q, want KILLED \"sweep cancelled\"", runs[0].Status, runs[0].Error)
	}
	st, err := Status(ctx, store, swID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts[trial.Cancelled] != 3 || st.Sweep.Cancelled.IsZero() {
		t.Errorf("after cancel: %v, cancelled at %v", st.Counts, st.Sweep.Cancelled)
	}
	if _, err := Cancel(ctx, store, "ffffffff"); !errors.Is(err, tracker.ErrNoSweep) {
		t.Errorf("cancelling an unknown sweep: %v", err)
	}
}

// benchStores runs a benchmark on a new SQLite store and a new PostgreSQL database.
func benchStores(b *testing.B, fn func(b *testing.B, store *tracker.Store)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			location := b.TempDir() + "/aelab.db"
			if kind == "postgres" {
				location = pgtest.Shared(b).NewDatabase(b)
			}
			store, err := tracker.Open(location)
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			fn(b, store)
		})
	}
}

// BenchmarkCreate enqueues sweeps of 1,000 trials (one transaction, River's batch insert).
func BenchmarkCreate(b *testing.B) {
	benchStores(b, func(b *testing.B, store *tracker.Store) {
		spec, err := ParseSpec("bench.yaml", []byte("model: vanilla\nparameters:\n  lr: {log_uniform: [1e-4, 1e-2]}\nmethod: random\ntrials: 1000\n"))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		q, err := openQueue(ctx, store, clientConfig{}, true)
		if err != nil {
			b.Fatal(err)
		}
		defer q.close()
		for b.Loop() {
			if _, err := create(ctx, store, q.client, spec, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/1000-trials")
	})
}

// BenchmarkTrialOverhead measures the time from creating a one-trial sweep to its run's start
// on an idle local worker (the trial trains 0 epochs): queueing, fetching, the worker's
// bookkeeping and starting the run.
func BenchmarkTrialOverhead(b *testing.B) {
	benchStores(b, func(b *testing.B, store *tracker.Store) {
		ctx := context.Background()
		w, err := NewWorker(ctx, store, WorkerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Start(ctx); err != nil {
			b.Fatal(err)
		}
		defer w.Stop(ctx)
		if _, err := w.trials.dataset("mnist"); err != nil { // loaded once per worker, not per trial
			b.Fatal(err)
		}
		var total time.Duration
		for i := 0; b.Loop(); i++ {
			spec, err := ParseSpec("bench.yaml", []byte(fmt.Sprintf("name: b%d\nmodel: vanilla\nbase: {epochs: 0, test-subset: 100}\nparameters: {lr: [0.001]}\n", i)))
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			sw, err := create(ctx, store, w.client, spec, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := waitDone(ctx, w.client, sw.ID); err != nil {
				b.Fatal(err)
			}
			runs, err := store.SweepRuns(sw.ID, -1)
			if err != nil || len(runs) != 1 {
				b.Fatalf("runs %v, %v", runs, err)
			}
			total += runs[0].StartTime.Sub(t0)
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-enqueue-to-start/trial")
	})
}
