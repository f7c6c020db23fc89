package sweeps

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// enqueueBatch is how many trials create makes and hands River at once: the jobs in memory
// stay this many whatever the sweep's size.
const enqueueBatch = 1000

// create records the sweep and enqueues its trials through client, in one transaction of the
// store. The trials come one at a time from Spec.All and go to River enqueueBatch at a time;
// the sweep's record, which lists every trial (MaxTrials at most), is written last, in the
// same transaction.
func create(ctx context.Context, store *tracker.Store, client *river.Client[*sql.Tx], spec *Spec, opts Options) (*tracker.Sweep, error) {
	if err := spec.CheckCount(opts.AllowLarge); err != nil {
		return nil, err
	}
	total := spec.Count()
	sw := &tracker.Sweep{ID: tracker.NewID(), Name: spec.Name, Experiment: spec.Experiment, Model: spec.modelOrCommand(),
		Spec: string(spec.Source), Metric: spec.Metric.Name, LowerIsBetter: spec.Metric.LowerIsBetter}
	sw.Parameters, sw.Trials = spec.ParameterNames(), make([]Trial, 0, total)
	if spec.Stopping != nil {
		sw.Stopping = spec.Stopping.Rule
	}
	settings := SweepSettings{Name: spec.Name, Experiment: spec.Experiment, Metric: spec.Metric, Stopping: spec.Stopping,
		MaxParallel: spec.MaxParallel, TimeoutMS: spec.Timeout.Milliseconds(), Tags: opts.Tags}
	insertOpts := &river.InsertOpts{Queue: spec.Queue, MaxAttempts: spec.MaxAttempts, Tags: []string{sweepTag(sw.ID)},
		UniqueOpts: river.UniqueOpts{ByArgs: true}}
	err := store.WriteTx(ctx, func(tx *sql.Tx) error {
		jobs := make([]river.InsertManyParams, 0, min(enqueueBatch, total))
		reported := 0 // tenths of the sweep reported so far
		flush := func() error {
			if len(jobs) == 0 {
				return nil
			}
			res, err := client.InsertManyTx(ctx, tx, jobs)
			if err != nil {
				return fmt.Errorf("sweeps: enqueueing trials %d to %d of %d: %w", len(sw.Trials)-len(jobs), len(sw.Trials)-1, total, err)
			}
			if i := slices.IndexFunc(res, func(r *rivertype.JobInsertResult) bool { return r.UniqueSkippedAsDuplicate }); i >= 0 {
				return fmt.Errorf("sweeps: trial %d of sweep %s is already queued", len(sw.Trials)-len(jobs)+i, sw.ShortID()) // cannot happen with a new sweep id
			}
			jobs = jobs[:0]
			if done := len(sw.Trials); opts.Progress != nil && total > MaxGridTrials && done*10/total > reported {
				reported = done * 10 / total
				fmt.Fprintf(opts.Progress, "sweep %s: %s of %s trials enqueued\n", spec.Name, aelib.Thousands(done), aelib.Thousands(total))
			}
			return ctx.Err()
		}
		for t := range spec.All() {
			cfg, err := spec.TrialConfig(t)
			if err != nil {
				return err
			}
			sw.Trials = append(sw.Trials, t)
			jobs = append(jobs, river.InsertManyParams{InsertOpts: insertOpts,
				Args: TrialArgs{SweepID: sw.ID, Index: t.Index, Config: cfg, Command: spec.TrialCommand(t), Params: t.Params, Sweep: settings}})
			if len(jobs) == enqueueBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		return store.CreateSweepTx(tx, sw)
	})
	if err != nil {
		return nil, err
	}
	return sw, nil
}
