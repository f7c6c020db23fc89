package track

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/aelab/aelab/tracker"
)

// Environment variables through which a run is handed to a program it runs.
const (
	EnvRunID = "AELAB_RUN_ID" // the id of the run a program logs into (set by `aelab run` and program sweeps)
	EnvDB    = "AELAB_DB"     // the store's location
)

// Options say which store a run goes to and what it is.
type Options struct {
	// DB is the store's location (a SQLite path or a postgres:// URL); $AELAB_DB, else the
	// default store (tracker.DefaultPath), when empty.
	DB string
	// Store is an open store to log into instead of DB; the run leaves it open.
	Store *tracker.Store
	// Experiment groups runs ("Default" when empty); Name names the run (a short form of its
	// id when empty).
	Experiment, Name string
	// Params are the run's parameters (hyperparameters); Tags its tags.
	Params, Tags map[string]string
	// Source says what made the run (the program's name when empty).
	Source string
	// Config is the full configuration as JSON (may be nil).
	Config []byte
	// Stderr is where a tracking failure is said, once (os.Stderr when nil).
	Stderr io.Writer
	// NoSignals leaves SIGINT and SIGTERM alone. By default the first of them ends the run
	// KILLED and is then delivered as if the run had not been there (the program stops
	// unless it handles the signal itself).
	NoSignals bool
}

// Run is one tracked run. Its methods are safe for concurrent use, and none of them stops
// the program: a failure to log is said once on Stderr and counted, and training goes on.
// A Run whose Start failed logs nothing.
type Run struct {
	run       *tracker.Run   // nil when Start failed
	store     *tracker.Store // the store the run logs into
	ownsStore bool           // Start opened the store: End closes it
	attached  bool           // the run belongs to another process (AELAB_RUN_ID)
	ctx       context.Context
	stderr    io.Writer
	stopSig   func() // stops watching signals

	mu       sync.Mutex
	failures int   // logging calls that failed
	firstErr error // the first of them
	ended    bool
	endErr   error
	killed   string // why the run was killed by a signal
}

// Start starts a run, or attaches to the run named by $AELAB_RUN_ID when it is set (the
// program runs under `aelab run` or a program sweep, whose run it logs into and which
// records how it ends). The error says why the run could not start; the Run returned with
// it is still usable and logs nothing, so a program may say the error and train on.
//
// The run ends KILLED when ctx is cancelled before End, or on SIGINT or SIGTERM (see
// Options.NoSignals).
func Start(ctx context.Context, o Options) (*Run, error) {
	r := &Run{ctx: ctx, stderr: o.Stderr, stopSig: func() {}}
	if r.stderr == nil {
		r.stderr = os.Stderr
	}
	if err := r.open(o, os.Getenv(EnvRunID)); err != nil {
		return r, fmt.Errorf("track: start run: %w", err)
	}
	if !o.NoSignals && !r.attached {
		r.watchSignals()
	}
	return r, nil
}

// open opens the store and starts a run, or attaches to run attachTo when it is not "".
func (r *Run) open(o Options, attachTo string) error {
	r.store = o.Store
	if r.store == nil {
		loc := o.DB
		if loc == "" {
			loc = tracker.DefaultPath()
		}
		s, err := tracker.Open(loc)
		if err != nil {
			return err
		}
		r.store, r.ownsStore = s, true
	}
	if id := attachTo; id != "" {
		run, err := r.store.AttachRun(id)
		if err != nil {
			r.closeStore()
			return fmt.Errorf("%s=%s: %w", EnvRunID, id, err)
		}
		r.run, r.attached = run, true
		if len(o.Params) > 0 {
			r.note(run.LogParams(o.Params))
		}
		for k, v := range o.Tags {
			r.note(run.SetTag(k, v))
		}
		return nil
	}
	source := o.Source
	if source == "" && len(os.Args) > 0 {
		source = filepath.Base(os.Args[0])
	}
	run, err := r.store.StartRun(tracker.RunSpec{Experiment: o.Experiment, Name: o.Name, Source: source,
		Config: o.Config, Params: maps.Clone(o.Params), Tags: maps.Clone(o.Tags)})
	if err != nil {
		r.closeStore()
		return err
	}
	r.run = run
	return nil
}

func (r *Run) closeStore() {
	if r.ownsStore && r.store != nil {
		r.store.Close()
	}
	r.store, r.ownsStore = nil, false
}

// watchSignals ends the run KILLED on the first SIGINT or SIGTERM, then stops watching and
// delivers the signal again, so the program reacts to it as it would without the run.
func (r *Run) watchSignals() {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var once sync.Once
	r.stopSig = func() { once.Do(func() { signal.Stop(sigs); close(done) }) }
	go func() {
		select {
		case <-done:
			return
		case sig := <-sigs:
			r.stopSig()
			r.mu.Lock()
			r.killed = "interrupted by " + sig.String()
			r.mu.Unlock()
			r.End(nil)
			if p, err := os.FindProcess(os.Getpid()); err != nil || p.Signal(sig) != nil {
				os.Exit(130)
			}
		}
	}()
}

// ID is the run's id ("" when Start failed).
func (r *Run) ID() string {
	if r.run == nil {
		return ""
	}
	return r.run.ID()
}

// Store is the store the run logs into (nil when Start failed).
func (r *Run) Store() *tracker.Store { return r.store }

// Attached reports whether the run belongs to another process ($AELAB_RUN_ID).
func (r *Run) Attached() bool { return r.attached }

// Context is the context the run was started with.
func (r *Run) Context() context.Context { return r.ctx }

// Log logs metric values at a step (the global training step, or the epoch).
func (r *Run) Log(step int64, values map[string]float64) {
	if r.run != nil && len(values) > 0 {
		r.note(r.run.LogMetrics(values, step, 0))
	}
}

// LogEpoch logs metric values at a step that belongs to an epoch (both recorded).
func (r *Run) LogEpoch(step int64, epoch int, values map[string]float64) {
	if r.run != nil && len(values) > 0 {
		r.note(r.run.LogMetrics(values, step, epoch))
	}
}

// LogMetric logs one metric value at a step.
func (r *Run) LogMetric(name string, value float64, step int64) {
	r.Log(step, map[string]float64{name: value})
}

// LogParams adds (or overwrites) parameters.
func (r *Run) LogParams(params map[string]string) {
	if r.run != nil && len(params) > 0 {
		r.note(r.run.LogParams(params))
	}
}

// SetTag sets one tag.
func (r *Run) SetTag(key, value string) {
	if r.run != nil {
		r.note(r.run.SetTag(key, value))
	}
}

// LogArtifact records a file or folder the run produced, by path, of kind "file".
func (r *Run) LogArtifact(path string) { r.LogArtifactKind("file", path, "") }

// LogArtifactKind records a file with its kind ("checkpoint", "figure", …) and what it shows.
func (r *Run) LogArtifactKind(kind, path, description string) {
	if r.run == nil {
		return
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	r.note(r.run.LogArtifact(kind, path, description))
}

// note says the first failure to log on stderr and counts the others.
func (r *Run) note(err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	if r.failures == 1 {
		r.firstErr = err
		fmt.Fprintf(r.stderr, "track: %v (training goes on; later tracking errors are counted, not shown)\n", err)
	}
}

// Failures is how many logging calls failed so far.
func (r *Run) Failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

// End ends the run with the program's outcome: FINISHED when err is nil, KILLED when the
// run's context was cancelled or an interrupt came (err is then the reason if given),
// FAILED with err otherwise. A run attached to another process's run is left for that
// process to end: End only writes what is still kept for the store. Only the first call
// counts; it returns what the store said (nil when all was recorded).
func (r *Run) End(err error) error {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return r.endErr
	}
	r.ended = true
	killed := r.killed
	r.mu.Unlock()
	r.stopSig()
	if r.run == nil {
		return nil
	}
	var endErr error
	if !r.attached {
		status, reason := tracker.StatusFinished, ""
		switch {
		case killed != "":
			status, reason = tracker.StatusKilled, killed
		case r.ctx != nil && r.ctx.Err() != nil:
			status, reason = tracker.StatusKilled, context.Cause(r.ctx).Error()
			if err != nil && !errors.Is(err, r.ctx.Err()) {
				reason = err.Error()
			}
		case errors.Is(err, context.Canceled):
			status, reason = tracker.StatusKilled, err.Error()
		case err != nil:
			status, reason = tracker.StatusFailed, err.Error()
		}
		if n := r.Failures(); n > 0 {
			reason = joinReason(reason, fmt.Sprintf("%d tracking calls failed, the first: %v", n, r.firstErr))
		}
		endErr = r.run.Finish(status, reason)
	}
	if r.ownsStore {
		endErr = errors.Join(endErr, r.store.Close())
	}
	r.mu.Lock()
	r.endErr = endErr
	r.mu.Unlock()
	return endErr
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
