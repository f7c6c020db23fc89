package sweeps

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// Reasons a trial's run ends KILLED.
const (
	reasonHandedBack = "worker stopped: trial handed back to the queue"
	reasonTimeout    = "trial timeout"
)

// WorkerOptions are the knobs of a Worker.
type WorkerOptions struct {
	Queue       string    // the queue to work: QueueCPU (default) or QueueGPU
	Concurrency int       // trials trained at once by this process (default 1)
	Log         io.Writer // one line per trial started and ended; nil for none
	// Logger receives River's own warnings and errors (a database that cannot be reached, …);
	// nil drops them.
	Logger *slog.Logger
	// Progress shows GoMLX's progress bar while training (useful with one trial at a time).
	Progress bool
	// Watch, when set, returns more observers of a trial's training (a notebook's live chart of
	// the trials): it is told the trial's index, its parameters in words and its config.
	Watch func(index int, params string, cfg aelib.Config) []aelib.Observer
}

// Worker trains trials: a River client working one queue of the store's database, training
// each trial through experiments.Run as an ordinary run of the store.
type Worker struct {
	store  *tracker.Store
	queue  *queue
	client *river.Client[*sql.Tx]
	trials *trialWorker
}

// NewWorker makes a worker on the store's database (installing River's tables if needed).
// Start it with Start and end it with Stop.
func NewWorker(ctx context.Context, store *tracker.Store, opts WorkerOptions) (*Worker, error) {
	if opts.Queue == "" {
		opts.Queue = QueueCPU
	}
	if opts.Queue != QueueCPU && opts.Queue != QueueGPU {
		return nil, fmt.Errorf("sweeps: unknown queue %q (valid: %s, %s)", opts.Queue, QueueCPU, QueueGPU)
	}
	host, _ := os.Hostname()
	tw := &trialWorker{store: store, log: opts.Log, progress: opts.Progress, watch: opts.Watch, name: fmt.Sprintf("%s:%d", host, os.Getpid()),
		data: map[string]*data.Dataset{}}
	workers := river.NewWorkers()
	river.AddWorker(workers, tw)
	q, err := openQueue(ctx, store, clientConfig{queue: opts.Queue, concurrency: opts.Concurrency, workers: workers, logger: opts.Logger}, true)
	if err != nil {
		return nil, err
	}
	tw.client = q.client
	return &Worker{store: store, queue: q, client: q.client, trials: tw}, nil
}

// Start starts taking trials; it returns at once. The worker stops when ctx is cancelled
// (as StopAndCancel would) or on Stop.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.client.Start(ctx); err != nil {
		return fmt.Errorf("sweeps: starting the worker: %w", err)
	}
	return nil
}

// Stop stops taking trials and waits for the running ones to finish. If ctx ends first, the
// running trials are stopped and handed back to the queue: their runs end KILLED ("worker
// stopped: trial handed back to the queue") and River gives them to the next worker at once.
func (w *Worker) Stop(ctx context.Context) error {
	if err := w.client.Stop(ctx); err != nil {
		w.trials.handingBack.Store(true)
		if err := w.client.StopAndCancel(context.Background()); err != nil {
			return fmt.Errorf("sweeps: stopping the worker: %w", err)
		}
	}
	return w.queue.close()
}

// Name is the worker's host:pid, as its trials' runs are tagged.
func (w *Worker) Name() string { return w.trials.name }

// trialWorker is River's worker of TrialArgs jobs.
type trialWorker struct {
	river.WorkerDefaults[TrialArgs]
	store    *tracker.Store
	client   *river.Client[*sql.Tx]
	log      io.Writer
	progress bool
	watch    func(index int, params string, cfg aelib.Config) []aelib.Observer
	name     string

	handingBack atomic.Bool // set when Stop gives up waiting: cancelled trials go back to the queue

	mu   sync.Mutex
	data map[string]*data.Dataset // loaded once per process, shared read-only by trials
}

// Timeout tells River how long a trial may run: its own deadline plus time to wind down.
// River rescues a trial whose worker died only after this, so it never runs twice at once.
func (w *trialWorker) Timeout(job *river.Job[TrialArgs]) time.Duration {
	return job.Args.Sweep.Timeout() + rescueGrace
}

func (w *trialWorker) logf(format string, args ...any) {
	if w.log != nil {
		fmt.Fprintf(w.log, format+"\n", args...)
	}
}

func (w *trialWorker) dataset(name string) (*data.Dataset, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ds, ok := w.data[name]; ok {
		return ds, nil
	}
	ds, err := data.Load(name)
	if err != nil {
		return nil, err
	}
	w.data[name] = ds
	return ds, nil
}

// Work trains one trial as a run of the store. A trial that fails is not retried (its
// failure is its result); one whose sweep was cancelled ends KILLED "sweep cancelled"; one
// stopped by Stop is handed back; a trial whose worker died is retried by River on another
// worker as a new run, and the dead attempt's run is marked LOST and linked to the retry.
func (w *trialWorker) Work(ctx context.Context, job *river.Job[TrialArgs]) error {
	a := job.Args
	if wait, err := w.overParallelCap(ctx, job); err != nil {
		return err
	} else if wait {
		return river.JobSnooze(2 * time.Second)
	}
	var ds *data.Dataset
	if a.Command == nil { // a program trial reads its own data
		var err error
		if ds, err = w.dataset(a.Config.Dataset); err != nil {
			return river.JobCancel(err)
		}
	}
	prev, err := w.store.SweepRuns(a.SweepID, a.Index)
	if err != nil {
		return err // the store is unreachable: River retries later
	}
	// The trial's context ends when River's does, but with the reason its run is KILLED for.
	trialCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	stopWatch := context.AfterFunc(ctx, func() { cancel(w.killReason(ctx)) })
	defer stopWatch()
	defer w.watchJob(trialCtx, job, cancel)()
	trialCtx, cancelDeadline := context.WithTimeoutCause(trialCtx, a.Sweep.Timeout(),
		experiments.KillReason(fmt.Sprintf("%s after %s", reasonTimeout, a.Sweep.Timeout())))
	defer cancelDeadline()

	tags := maps.Clone(a.Sweep.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, map[string]string{
		tracker.TagSweepID: a.SweepID, tracker.TagSweepTrial: strconv.Itoa(a.Index), tracker.TagSweepName: a.Sweep.Name,
		tracker.TagSweepAttempt: strconv.Itoa(len(prev) + 1), tracker.TagSweepWorker: w.name,
	})
	for k, v := range a.Params {
		tags[tracker.TagSweepParamPrefix+k] = v
	}
	var retryOf []*tracker.RunRecord
	for _, r := range prev {
		if r.Tags[tracker.TagSweepRetriedBy] == "" && (r.Status == tracker.StatusRunning || r.Status == tracker.StatusLost || r.Status == tracker.StatusKilled) {
			retryOf = append(retryOf, r)
			tags[tracker.TagSweepRetryOf] = r.ID
		}
	}
	stopper := newStopper(w.store, a)
	params := tracker.SweepTrial{Params: a.Params}.Describe(slices.Sorted(maps.Keys(a.Params)))
	var observers []aelib.Observer
	if w.watch != nil { // before the stopper: they see the epoch a trial is stopped after, too
		observers = w.watch(a.Index, params, a.Config)
	}
	observers = append(observers, stopper)
	w.logf("trial %d of sweep %s (%s): started on %s", a.Index, a.Sweep.Name, params, w.name)
	if a.Command != nil {
		runID, err := w.runProgram(trialCtx, a, tags, stopper, func(runID string) { w.linkRetry(retryOf, runID, job) })
		return w.outcome(trialCtx, a, runID, stopper, err)
	}
	res, err := experiments.Run(trialCtx, w.store, experiments.Spec{
		Config: a.Config, Name: fmt.Sprintf("%s-t%03d", a.Sweep.Name, a.Index), Experiment: a.Sweep.Experiment,
		Source: "sweep", Tags: tags,
	}, experiments.Options{Data: ds, ProgressBar: w.progress, Observers: observers,
		Started: func(runID string) {
			stopper.runID = runID
			w.linkRetry(retryOf, runID, job)
		}})
	runID := ""
	if res != nil {
		runID = res.RunID
	}
	return w.outcome(trialCtx, a, runID, stopper, err)
}

// jobWatchInterval is how often a running trial checks that its job is still its own.
const jobWatchInterval = 2 * time.Second

// watchJob stops the trial (cancel) once its River job is no longer running as this attempt:
// River's rescuer finalizes a running job whose cancellation was requested, once it is older
// than RescueStuckJobsAfter, without telling the job's executor, so River's own signal can
// miss the trial. It returns the function that stops watching.
func (w *trialWorker) watchJob(ctx context.Context, job *river.Job[TrialArgs], cancel context.CancelCauseFunc) func() {
	ctx, stop := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(jobWatchInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			row, err := w.client.JobGet(ctx, job.ID)
			switch {
			case err != nil:
				continue // the database is away: River's own signals still hold
			case row.State == rivertype.JobStateCancelled:
				cancel(experiments.KillReason(ErrSweepCancelled.Error()))
			case row.State != rivertype.JobStateRunning || row.Attempt != job.Attempt:
				cancel(experiments.KillReason(fmt.Sprintf("River took the trial from this worker (job %s, attempt %d)", row.State, row.Attempt)))
			default:
				continue
			}
			return
		}
	}()
	return stop
}

// killReason says why River cancelled a trial's context.
func (w *trialWorker) killReason(ctx context.Context) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, rivertype.ErrJobCancelledRemotely):
		return experiments.KillReason(ErrSweepCancelled.Error())
	case w.handingBack.Load():
		return experiments.KillReason(reasonHandedBack)
	case errors.Is(cause, context.DeadlineExceeded):
		return experiments.KillReason(reasonTimeout)
	default:
		return experiments.KillReason("worker stopped: " + cause.Error())
	}
}

// outcome turns how a trial ended into what River should do with its job.
func (w *trialWorker) outcome(trialCtx context.Context, a TrialArgs, runID string, st *stopper, err error) error {
	short := runID[:min(8, len(runID))]
	if err == nil {
		how := "finished"
		if st.reason != "" {
			how = "stopped early: " + st.reason
		}
		w.logf("trial %d of sweep %s: run %s %s", a.Index, a.Sweep.Name, short, how)
		return nil
	}
	var kr experiments.KillReason
	errors.As(context.Cause(trialCtx), &kr)
	w.logf("trial %d of sweep %s: run %s ended: %v", a.Index, a.Sweep.Name, short, firstNonNil(error(kr), err))
	switch {
	case string(kr) == ErrSweepCancelled.Error():
		return river.JobCancel(ErrSweepCancelled)
	case string(kr) == reasonHandedBack:
		return river.JobSnooze(0) // back to the queue at once, without using an attempt
	case trialCtx.Err() == nil && runID == "":
		return err // the run could not even start (store unreachable): River retries
	}
	return river.JobCancel(err) // a trial that failed or timed out failed for good
}

func firstNonNil(errs ...error) error {
	for _, e := range errs {
		if e != nil && e.Error() != "" {
			return e
		}
	}
	return nil
}

// linkRetry marks the runs of earlier attempts of this trial that never ended (their worker
// died; River rescued the job) LOST, and links them and the new run both ways.
func (w *trialWorker) linkRetry(prev []*tracker.RunRecord, runID string, job *river.Job[TrialArgs]) {
	for _, r := range prev {
		if r.Status == tracker.StatusRunning || r.Status == tracker.StatusLost {
			reason := fmt.Sprintf("worker %s died; River rescued the trial (attempt %d) and it was retried as run %s",
				r.Tags[tracker.TagSweepWorker], job.Attempt, runID[:8])
			if err := w.store.MarkLost(r.ID, reason); err != nil {
				w.logf("trial %d: %v", job.Args.Index, err)
			}
		}
		if err := w.store.SetTag(r.ID, tracker.TagSweepRetriedBy, runID); err != nil {
			w.logf("trial %d: %v", job.Args.Index, err)
		}
	}
}

// overParallelCap reports whether the sweep already runs MaxParallel trials that started
// before this one (River's fetch order: the earliest attempts run, later ones wait).
func (w *trialWorker) overParallelCap(ctx context.Context, job *river.Job[TrialArgs]) (bool, error) {
	limit := job.Args.Sweep.MaxParallel
	if limit <= 0 {
		return false, nil
	}
	running, err := sweepJobs(ctx, w.client, job.Args.SweepID, rivertype.JobStateRunning)
	if err != nil {
		return false, err
	}
	ahead := 0
	for _, j := range running {
		if j.ID != job.ID && j.AttemptedAt != nil && job.AttemptedAt != nil &&
			(j.AttemptedAt.Before(*job.AttemptedAt) || j.AttemptedAt.Equal(*job.AttemptedAt) && j.ID < job.ID) {
			ahead++
		}
	}
	return ahead >= limit, nil
}
