package main

// `aelab worker`: trains the trials of sweeps queued in a store (package sweeps).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/tracker"
)

// Backoff of a worker that cannot reach the store.
const (
	workerRetryFirst = time.Second
	workerRetryMax   = 30 * time.Second
)

func runWorker(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("worker", stderr)
	db := storeFlag(fs)
	queue := fs.String("queue", sweeps.QueueCPU, "queue to take trials from: cpu or gpu")
	concurrency := fs.Int("concurrency", 1, "trials trained at once by this worker")
	stopTimeout := fs.Duration("stop-timeout", 0, "on SIGTERM/SIGINT, wait this long for running trials before handing them back (0: wait until they finish; a second signal hands them back at once)")
	progress := progressFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: aelab worker [--db URL] [--queue cpu|gpu] [--concurrency N] [--stop-timeout D]")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	if *queue != sweeps.QueueCPU && *queue != sweeps.QueueGPU {
		return usagef("--queue must be %s or %s, got %q", sweeps.QueueCPU, sweeps.QueueGPU, *queue)
	}
	if *concurrency < 1 || *concurrency > 64 {
		return usagef("--concurrency must be 1 to 64, got %d", *concurrency)
	}
	if *stopTimeout < 0 {
		return usagef("--stop-timeout must be >= 0, got %s", *stopTimeout)
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-signals; cancel() }() // until the worker runs, a signal just ends the wait

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A SQLite path must name a store (a mistyped one would otherwise leave an empty store
	// and a worker that waits for trials forever); a PostgreSQL database may be new, and
	// gets the store's schema, so workers can start before the first sweep is created.
	open := openExisting
	if tracker.IsPostgresURL(db.location) {
		open = openStore
	}
	var w *sweeps.Worker
	var store *tracker.Store
	err := retryWithBackoff(ctx, stderr, db.location, func() error {
		var err error
		if store, err = open(*db); err != nil {
			return err
		}
		w, err = sweeps.NewWorker(ctx, store, sweeps.WorkerOptions{Queue: *queue, Concurrency: *concurrency, Log: stdout, Logger: logger,
			Progress: *progress && *concurrency == 1})
		if err != nil {
			store.Close()
		}
		return err
	})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := w.Start(context.Background()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "worker %s: taking trials from queue %s of %s, %d at a time (SIGTERM: finish and stop)\n", w.Name(), *queue, store.Path(), *concurrency)
	<-ctx.Done()

	// Finish the running trials (or hand them back after --stop-timeout or a second signal).
	stopCtx, stopCancel := context.WithCancel(context.Background())
	defer stopCancel()
	if *stopTimeout > 0 {
		stopCtx, stopCancel = context.WithTimeout(stopCtx, *stopTimeout)
		defer stopCancel()
	}
	go func() {
		select {
		case <-signals:
			stopCancel()
		case <-stopCtx.Done():
		}
	}()
	fmt.Fprintf(stdout, "worker %s: stopping: no new trials; waiting for the running ones\n", w.Name())
	if err := w.Stop(stopCtx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "worker %s: stopped\n", w.Name())
	return nil
}

// retryWithBackoff calls connect until it succeeds, saying on stderr why it failed and when
// it tries again (1 s, doubling up to 30 s), or until ctx ends. Only a store that cannot be
// reached for now is tried again: any other error (no store, another program's database, a
// wrong password) is returned at once.
func retryWithBackoff(ctx context.Context, stderr io.Writer, db string, connect func() error) error {
	wait := workerRetryFirst
	for {
		err := connect()
		if err == nil || !tracker.IsUnreachable(err) {
			return err
		}
		fmt.Fprintf(stderr, "aelab worker: cannot reach the store %s: %v; retrying in %s\n", tracker.RedactURL(db), err, wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up reaching the store %s: %w", tracker.RedactURL(db), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, workerRetryMax)
	}
}
