package sweeps

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// thousandValues is a grid axis of 1,000 values.
func thousandValues() string {
	v := make([]string, 1000)
	for i := range v {
		v[i] = fmt.Sprint(i + 1)
	}
	return "[" + strings.Join(v, ", ") + "]"
}

// A grid of a billion trials makes its first trials at once, in order, with a handful of
// allocations each: nothing is made before it is asked for.
func TestTrialsAreMadeLazily(t *testing.T) {
	axis := thousandValues()
	s := mustParse(t, "model: denoise\nparameters:\n  filters: "+axis+"\n  epochs: "+axis+"\n  batch: "+axis+"\nseeds: [1, 2]\n")
	if n := s.Count(); n != 2_000_000_000 {
		t.Fatalf("Count = %d", n)
	}
	var got []string
	start := time.Now()
	for tr := range s.All() {
		got = append(got, tr.Describe(s.ParameterNames()))
		if len(got) == 6 {
			break
		}
	}
	want := []string{"filters=1 epochs=1 batch=1 seed=1", "filters=1 epochs=1 batch=1 seed=2", "filters=1 epochs=1 batch=2 seed=1",
		"filters=1 epochs=1 batch=2 seed=2", "filters=1 epochs=1 batch=3 seed=1", "filters=1 epochs=1 batch=3 seed=2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("first trials %q\n want %q", got, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the first 6 of 2e9 trials took %v", d)
	}
	allocs := testing.AllocsPerRun(5, func() {
		n := 0
		for range s.All() {
			if n++; n == 100 {
				break
			}
		}
	})
	if allocs > 100*5 {
		t.Errorf("%.0f allocations for the first 100 trials: not made one at a time", allocs)
	}
	// The grid's last trial is the digits of its index.
	small := mustParse(t, "model: denoise\nparameters:\n  filters: [8, 16, 32]\n  noise: [0.1, 0.2]\n")
	var last Trial
	for tr := range small.All() {
		last = tr
	}
	if last.Index != 5 || last.Describe(small.ParameterNames()) != "filters=32 noise=0.2" {
		t.Errorf("last trial %d %v", last.Index, last.Params)
	}
}

// A sweep of a billion trials is refused at once, even with AllowLarge, and nothing is stored.
func TestHugeSweepIsRefusedAtOnce(t *testing.T) {
	store := openTestStore(t)
	s := mustParse(t, "name: huge\nmodel: vanilla\nmethod: random\ntrials: 1000000000\nparameters:\n  lr: {log_uniform: [0.0001, 0.01]}\n")
	start := time.Now()
	_, err := Create(context.Background(), store, s, Options{AllowLarge: true})
	want := "sweep huge makes 1,000,000,000 trials, more than the limit of 100,000 even with --allow-large: split it into several sweeps or vary fewer values"
	if err == nil || err.Error() != want {
		t.Fatalf("Create: %v\n want %s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing took %v", d)
	}
	if sws, err := store.Sweeps(); err != nil || len(sws) != 0 {
		t.Errorf("sweeps %v, %v; want none", sws, err)
	}
}

// 5,000 trials go to River in batches of enqueueBatch, with progress by tenths; every trial is
// one job and one entry of the sweep's record.
func TestCreateEnqueuesInBatches(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	s := mustParse(t, "name: many\nmodel: vanilla\nmethod: random\ntrials: 2500\nseeds: [1, 2]\nparameters:\n  lr: {log_uniform: [0.0001, 0.01]}\n")
	var progress bytes.Buffer
	sw, err := Create(ctx, store, s, Options{AllowLarge: true, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for i := 1; i <= 5; i++ {
		want += fmt.Sprintf("sweep many: %d,000 of 5,000 trials enqueued\n", i)
	}
	if progress.String() != want {
		t.Errorf("progress:\n%s want:\n%s", progress.String(), want)
	}
	q, err := openQueue(ctx, store, clientConfig{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	jobs, err := sweepJobs(ctx, q.client, sw.ID)
	if err != nil || len(jobs) != 5000 {
		t.Fatalf("%d River jobs, %v; want 5,000", len(jobs), err)
	}
	stored, err := store.GetSweep(sw.ID)
	if err != nil || len(stored.Trials) != 5000 || stored.Trials[4999].Index != 4999 || stored.Trials[4999].Seed != 2 {
		t.Fatalf("stored sweep: %d trials, %v", len(stored.Trials), err)
	}
	// A small sweep says nothing.
	progress.Reset()
	if _, err := Create(ctx, store, mustParse(t, "model: vanilla\nparameters: {lr: [0.001, 0.002]}\n"), Options{Progress: &progress}); err != nil || progress.Len() != 0 {
		t.Errorf("small sweep: %v, progress %q", err, progress.String())
	}
}
