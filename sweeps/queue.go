package sweeps

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// River queues: workers take trials from one of them.
const (
	QueueCPU = "cpu"
	QueueGPU = "gpu"
)

// Defaults of a spec.
const (
	DefaultExperiment   = "sweeps"
	DefaultMaxAttempts  = 3
	DefaultTrialTimeout = time.Hour
)

// rescueGrace is how long after its own deadline a trial may take to wind down before River
// takes it for stuck: River cancels the job and may rescue it Timeout+rescueGrace after it
// started, never while the trial still trains.
const rescueGrace = 10 * time.Second

// trialKind is the River job kind of a trial.
const trialKind = "aelab_trial"

// TrialArgs is a trial as a River job: everything a worker needs, so it trains without
// reading the spec again. River keeps one job per (sweep, trial) at a time: the unique key
// is SweepID and Index only.
type TrialArgs struct {
	SweepID string            `json:"sweep_id" river:"unique"`
	Index   int               `json:"trial" river:"unique"`
	Config  aelib.Config      `json:"config"`
	Command []string          `json:"command,omitempty"` // a program trial's whole command line (Spec.TrialCommand)
	Params  map[string]string `json:"params"`
	Sweep   SweepSettings     `json:"sweep"`
}

// Kind is the job kind River files trials under.
func (TrialArgs) Kind() string { return trialKind }

// SweepSettings are the sweep-wide settings a worker applies to each trial.
type SweepSettings struct {
	Name        string    `json:"name"`
	Experiment  string    `json:"experiment"`
	Metric      Metric    `json:"metric"`
	Stopping    *Stopping `json:"stopping,omitempty"`
	MaxParallel int       `json:"max_parallel,omitempty"`
	TimeoutMS   int64     `json:"timeout_ms"`
	// Tags are put on every trial's run (Options.Tags), beside the sweep's own.
	Tags map[string]string `json:"tags,omitempty"`
}

// Timeout is how long a trial may train.
func (s SweepSettings) Timeout() time.Duration { return time.Duration(s.TimeoutMS) * time.Millisecond }

// sweepTag is the River job tag of a sweep's trials, so its jobs can be listed and cancelled.
func sweepTag(sweepID string) string { return "sweep-" + sweepID }

// queue is a River client on the store's database, over a connection pool of its own that
// closing it releases.
type queue struct {
	client *river.Client[*sql.Tx]
	db     *sql.DB
}

func (q *queue) close() error { return q.db.Close() }

// openQueue opens a River client on the store's database: River's SQLite driver on the
// embedded store, its database/sql driver on PostgreSQL — the same job code on both. With
// migrate, River's tables are installed or upgraded first.
func openQueue(ctx context.Context, store *tracker.Store, cc clientConfig, migrate bool) (*queue, error) {
	db, err := store.OpenDB()
	if err != nil {
		return nil, err
	}
	var driver riverdriver.Driver[*sql.Tx]
	switch store.Dialect() {
	case tracker.SQLite:
		db.SetMaxOpenConns(1) // River's SQLite driver works best on one connection (its doc)
		driver = riversqlite.New(db)
	default:
		driver = riverdatabasesql.New(db)
	}
	q := &queue{db: db}
	if migrate {
		err = migrateQueue(ctx, store, driver)
	}
	if err == nil {
		q.client, err = buildClient(driver, cc)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return q, nil
}

// migrateQueue installs or upgrades River's tables in the store's database with River's own
// migrator, so that processes starting at once migrate it once: on SQLite in one write
// transaction of the store (the file's lock serialises them), elsewhere under the store's
// Lock (River's PostgreSQL migrations need a transaction each).
func migrateQueue(ctx context.Context, store *tracker.Store, driver riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quietLogger()})
	if err != nil {
		return fmt.Errorf("sweeps: River migrator: %w", err)
	}
	upToDate := func(have []rivermigrate.Migration, err error) (bool, error) {
		return err == nil && len(have) >= len(m.AllVersions()), err
	}
	if ok, _ := upToDate(m.ExistingVersions(ctx)); ok {
		return nil // no lock taken
	}
	if store.Dialect() == tracker.SQLite {
		err = store.WriteTx(ctx, func(tx *sql.Tx) error {
			if ok, err := upToDate(m.ExistingVersionsTx(ctx, tx)); ok || err != nil {
				return err
			}
			_, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil) //nolint:staticcheck // SQLite: one transaction serialises racing processes
			return err
		})
	} else {
		var unlock func()
		if unlock, err = store.Lock(ctx, "aelab sweeps: River migrations"); err == nil {
			if ok, _ := upToDate(m.ExistingVersions(ctx)); !ok {
				_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
			}
			unlock()
		}
	}
	if err != nil {
		return fmt.Errorf("sweeps: installing River's tables in %s: %w", store.Path(), err)
	}
	return nil
}

// quietLogger is River's logger when nobody reads it: warnings and errors only, dropped.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// clientConfig is what a River client of the sweeps needs beyond the store.
type clientConfig struct {
	queue       string // empty: an insert-only client
	concurrency int
	workers     *river.Workers
	logger      *slog.Logger
}

// pollInterval is how often an idle worker looks for trials (the drivers over database/sql
// have no LISTEN; a trial lasts minutes, so this is the overhead per trial at worst).
const pollInterval = 250 * time.Millisecond

// buildClient makes a River client (Status reads through one without migrating anything).
func buildClient(driver riverdriver.Driver[*sql.Tx], cc clientConfig) (*river.Client[*sql.Tx], error) {
	logger := cc.logger
	if logger == nil {
		logger = quietLogger()
	}
	cfg := &river.Config{
		Logger:            logger,
		PollOnly:          true, // SQLite's notifier polls its outbox every 50 ms on the store's one connection; polling for jobs is enough
		FetchCooldown:     pollInterval / 2,
		FetchPollInterval: pollInterval,
		// Each trial's Timeout (its spec's trial_timeout plus rescueGrace) is what River
		// cancels and rescues it by; the client-wide values only have to allow it.
		JobTimeout:           -1,
		RescueStuckJobsAfter: time.Second,
		Workers:              cc.workers,
		SkipUnknownJobCheck:  cc.workers == nil,
	}
	if cc.queue != "" {
		cfg.Queues = map[string]river.QueueConfig{cc.queue: {MaxWorkers: max(cc.concurrency, 1)}}
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("sweeps: River client: %w", err)
	}
	return client, nil
}

// Options are the knobs of Create.
type Options struct {
	// AllowLarge lets a spec make more than MaxGridTrials trials.
	AllowLarge bool
	// Tags are put on every trial's run (e.g. the notebook that ran the sweep).
	Tags map[string]string
	// Progress, when set, is told how many trials are enqueued so far, in steps of a tenth,
	// for a sweep of more than MaxGridTrials trials.
	Progress io.Writer
}

// Create records the sweep in the store and enqueues its trials as River jobs, in one
// transaction of the store: either the sweep and all its trials exist, or nothing does. The
// trials are made and enqueued in batches of enqueueBatch (enqueue.go). It returns the
// sweep's record.
func Create(ctx context.Context, store *tracker.Store, spec *Spec, opts Options) (*tracker.Sweep, error) {
	q, err := openQueue(ctx, store, clientConfig{}, true)
	if err != nil {
		return nil, err
	}
	defer q.close()
	return create(ctx, store, q.client, spec, opts)
}

// sweepJobs lists the River jobs of a sweep that River still keeps (it deletes finished jobs
// after a day; the runs in the store stay), in states when given, else all.
func sweepJobs(ctx context.Context, client *river.Client[*sql.Tx], sweepID string, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	params := river.NewJobListParams().Kinds(trialKind).TagsAll(sweepTag(sweepID)).First(10_000).OrderBy(river.JobListOrderByID, river.SortOrderAsc)
	if len(states) > 0 {
		params = params.States(states...)
	}
	var out []*rivertype.JobRow
	for {
		res, err := client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("sweeps: listing the jobs of sweep %s: %w", sweepID[:min(8, len(sweepID))], err)
		}
		out = append(out, res.Jobs...)
		if len(res.Jobs) < 10_000 {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// unfinishedStates are the states of a job still to be worked (or being worked).
var unfinishedStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled}

// ErrSweepCancelled is the reason a trial running when its sweep was cancelled ends KILLED.
var ErrSweepCancelled = errors.New(tracker.ReasonSweepCancelled)

// Cancelled is what Cancel did.
type Cancelled struct {
	// Before is when the sweep had already been cancelled; zero when this call cancelled it.
	Before time.Time
	// Unfinished is how many of its trials were queued or running (a trial told to stop by an
	// earlier cancel may still be winding down).
	Unfinished int
}

// String says what happened, for people: "cancelled: 1 trial was queued or running", or
// "already cancelled at 2006-01-02 15:04:05 (local time); nothing was queued or running".
func (c Cancelled) String() string {
	var b strings.Builder
	if c.Before.IsZero() {
		b.WriteString("cancelled: ")
	} else {
		fmt.Fprintf(&b, "already cancelled at %s; ", c.Before.Local().Format("2006-01-02 15:04:05"))
	}
	switch c.Unfinished {
	case 0:
		b.WriteString("no trial was queued or running")
	case 1:
		b.WriteString("1 trial was queued or running")
	default:
		fmt.Fprintf(&b, "%d trials were queued or running", c.Unfinished)
	}
	if c.Unfinished > 0 {
		b.WriteString(" (running ones end KILLED \"sweep cancelled\" within seconds)")
	}
	return b.String()
}

// Cancel cancels a sweep: its queued trials will not run, and running ones are told through
// their context (a worker notices within seconds) and end KILLED "sweep cancelled". The sweep
// is marked cancelled in the store. Cancelling a cancelled sweep again tells its unfinished
// trials again and keeps the first cancel's time.
func Cancel(ctx context.Context, store *tracker.Store, sweepID string) (Cancelled, error) {
	sw, err := store.GetSweep(sweepID)
	if err != nil {
		return Cancelled{}, err
	}
	q, err := openQueue(ctx, store, clientConfig{}, true)
	if err != nil {
		return Cancelled{}, err
	}
	defer q.close()
	client := q.client
	jobs, err := sweepJobs(ctx, client, sw.ID, unfinishedStates...)
	if err != nil {
		return Cancelled{}, err
	}
	err = store.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := store.CancelSweepTx(tx, sw.ID); err != nil {
			return err
		}
		for _, j := range jobs {
			if _, err := client.JobCancelTx(ctx, tx, j.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("sweeps: cancelling trial job %d: %w", j.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return Cancelled{}, err
	}
	return Cancelled{Before: sw.Cancelled, Unfinished: len(jobs)}, nil
}
