package sweeps

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// LocalOptions are the knobs of RunLocal.
type LocalOptions struct {
	Workers    int  // trials trained at once in this process (default 1)
	AllowLarge bool // allow more than MaxGridTrials trials
	Log        io.Writer
	Logger     *slog.Logger                                                      // River's warnings; nil drops them
	Progress   bool                                                              // GoMLX's progress bar
	Tags       map[string]string                                                 // put on every trial's run
	Watch      func(index int, params string, cfg aelib.Config) []aelib.Observer // see WorkerOptions.Watch
}

// RunLocal runs a sweep on one machine: it records and enqueues the sweep like Create, then
// trains its trials with opts.Workers workers in this process (the same River job code as
// `aelab worker`), and returns once every trial has ended. If ctx is cancelled first, the
// running trials are handed back to the queue and the sweep stays queued: `aelab worker`
// (or another RunLocal) on the same store finishes it, `aelab sweep cancel` drops it.
func RunLocal(ctx context.Context, store *tracker.Store, spec *Spec, opts LocalOptions) (*tracker.Sweep, error) {
	w, err := NewWorker(ctx, store, WorkerOptions{Queue: spec.Queue, Concurrency: opts.Workers, Log: opts.Log,
		Logger: opts.Logger, Progress: opts.Progress, Watch: opts.Watch})
	if err != nil {
		return nil, err
	}
	sw, err := create(ctx, store, w.client, spec, Options{AllowLarge: opts.AllowLarge, Tags: opts.Tags})
	if err != nil {
		return nil, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "sweep %s (%s): %d trials queued, %d local workers\n", sw.ID, sw.Name, len(sw.Trials), max(opts.Workers, 1))
	}
	if err := w.Start(context.WithoutCancel(ctx)); err != nil {
		return sw, err
	}
	waitErr := waitDone(ctx, w.client, sw.ID)
	stopCtx := ctx
	if ctx.Err() == nil {
		stopCtx = context.Background() // done: nothing is running, Stop returns at once
	}
	if err := w.Stop(stopCtx); err != nil {
		return sw, err
	}
	return sw, waitErr
}

// waitDone returns once no trial of the sweep is queued or running, or when ctx ends.
func waitDone(ctx context.Context, client *river.Client[*sql.Tx], sweepID string) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		left, err := sweepJobs(ctx, client, sweepID, unfinishedStates...)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if len(left) == 0 && err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sweep %s interrupted with %d trials left (queued in the store): %w", sweepID[:8], len(left), ctx.Err())
		case <-t.C:
		}
	}
}
