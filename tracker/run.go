package tracker

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Status is the state of a run.
type Status string

const (
	StatusRunning  Status = "RUNNING"  // started, process alive
	StatusFinished Status = "FINISHED" // ended normally
	StatusFailed   Status = "FAILED"   // ended by an error, panic or NaN loss
	StatusKilled   Status = "KILLED"   // ended by an interrupt
	StatusLost     Status = "LOST"     // its process died without a word
)

// RunSpec says what a new run is.
type RunSpec struct {
	Experiment string            // experiment name; "Default" when empty
	Name       string            // run name; a short form of its id when empty
	Source     string            // program or notebook; the executable's name when empty
	Config     json.RawMessage   // the full configuration, any JSON (may be nil)
	Params     map[string]string // parameters (model, epochs, …)
	Tags       map[string]string // tags (env.go_version, notebook, …)
}

// Run is a run being logged by this process. Its methods are safe for concurrent use.
type Run struct {
	store *Store
	id    string

	hbStop chan struct{}
	hbDone chan struct{}
	hbOnce sync.Once

	writer runWriter
	rec    runRecord // what a spill file says of the run (spill.go); guarded by writer.mu

	mu        sync.Mutex
	finished  bool
	finishErr error
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// StartRun records a new RUNNING run with its config, params and tags, and starts
// its heartbeat. End it with Finish (or Fail).
func (s *Store) StartRun(spec RunSpec) (*Run, error) {
	if spec.Experiment == "" {
		spec.Experiment = "Default"
	}
	var config any // NULL unless given
	if len(spec.Config) > 0 {
		if !json.Valid(spec.Config) {
			return nil, fmt.Errorf("tracker: start run: config is not valid JSON")
		}
		config = s.scrubText(string(spec.Config))
	}
	id := newUUID()
	if spec.Name == "" {
		spec.Name = id[:8]
	}
	if spec.Source == "" && len(os.Args) > 0 {
		spec.Source = filepath.Base(os.Args[0])
	}
	spec.Name, spec.Source = s.scrubText(spec.Name), s.scrubText(spec.Source)
	host := hostName()
	s.mu.Lock()
	interval := s.heartbeat
	s.mu.Unlock()

	now := s.nowMS()
	err := s.writeTx(func(tx sqlRunner) error {
		if _, err := tx.exec(`INSERT INTO experiments(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`, spec.Experiment, now); err != nil {
			return err
		}
		var expID int64
		if err := tx.queryRow(`SELECT id FROM experiments WHERE name = ?`, spec.Experiment).Scan(&expID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO runs(id, experiment_id, name, status, start_time, source, config,
				owner_pid, owner_host, heartbeat, heartbeat_interval) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			id, expID, spec.Name, string(StatusRunning), now, spec.Source, config,
			os.Getpid(), host, now, interval.Milliseconds()); err != nil {
			return err
		}
		if err := s.upsertKV(tx, "params", id, spec.Params); err != nil {
			return err
		}
		return s.upsertKV(tx, "tags", id, spec.Tags)
	})
	if err != nil {
		return nil, fmt.Errorf("tracker: start run in %q: %w", spec.Experiment, err)
	}
	r := &Run{store: s, id: id, hbStop: make(chan struct{}), hbDone: make(chan struct{}),
		rec: s.newRunRecord(spec, config, host, now, interval.Milliseconds())}
	s.mu.Lock()
	s.runs[r] = struct{}{}
	s.mu.Unlock()
	go r.beat(interval)
	return r, nil
}

// upsertKV writes key/values into params or tags (table is one of those two
// constants), with any password scrubbed from them.
func (s *Store) upsertKV(tx sqlRunner, table, runID string, kv map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		if k == "" {
			return fmt.Errorf("empty %s key", table[:len(table)-1])
		}
		if _, err := tx.exec(`INSERT INTO `+table+`(run_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value`, runID, s.scrubText(k), s.scrubText(kv[k])); err != nil {
			return err
		}
	}
	return nil
}

// ID is the run's UUID.
func (r *Run) ID() string { return r.id }

// Store is the store the run logs into.
func (r *Run) Store() *Store { return r.store }

// LogParams adds (or overwrites) parameters.
func (r *Run) LogParams(params map[string]string) error {
	err := r.store.writeTx(func(tx sqlRunner) error { return r.store.upsertKV(tx, "params", r.id, params) })
	if err == nil || isTransient(err) {
		r.remember("params", params)
	}
	if err != nil {
		return fmt.Errorf("tracker: run %s: log params: %w", short(r.id), err)
	}
	return nil
}

// SetTag sets (or overwrites) one tag.
func (r *Run) SetTag(key, value string) error {
	err := r.store.SetTag(r.id, key, value)
	if err == nil || isTransient(err) {
		r.remember("tags", map[string]string{key: value})
	}
	return err
}

// LogMetric appends one metric value to the run's history. step orders the
// history (e.g. the global training step, or the epoch); epoch is the epoch it
// belongs to. NaN is stored (as SQL NULL) and read back as NaN.
func (r *Run) LogMetric(key string, value float64, step int64, epoch int) error {
	return r.LogMetrics(map[string]float64{key: value}, step, epoch)
}

// LogMetrics appends several metric values with the same step and epoch, in
// one transaction. When the store cannot take them for a passing reason (a
// PostgreSQL server restarting, a network drop), they are kept and written in
// the background once it can, and LogMetrics returns nil: training goes on.
// The error is one the store gave for good (a full disk, say).
func (r *Run) LogMetrics(values map[string]float64, step int64, epoch int) error {
	if len(values) == 0 {
		return nil
	}
	for k := range values {
		if k == "" {
			return fmt.Errorf("tracker: run %s: log metrics: empty metric key", short(r.id))
		}
	}
	if err := r.log(pendingWrite{at: r.store.nowMS(), metrics: maps.Clone(values), step: step, epoch: epoch}); err != nil {
		return fmt.Errorf("tracker: run %s: log metrics: %w", short(r.id), scrub(err, r.store.secret))
	}
	return nil
}

// LogArtifact records a file the run produced: kind says what it is
// ("checkpoint", "figure", …), path where it is (recorded relative to the
// store's artifact root when inside it), description what it shows. Like
// LogMetrics, it rides out passing trouble with the store.
func (r *Run) LogArtifact(kind, path, description string) error {
	s := r.store
	a := &Artifact{Kind: kind, Path: s.scrubText(s.storedArtifactPath(path)), Description: s.scrubText(description)}
	if err := r.log(pendingWrite{at: r.store.nowMS(), artifact: a}); err != nil {
		return fmt.Errorf("tracker: run %s: log artifact %s: %w", short(r.id), path, scrub(err, s.secret))
	}
	return nil
}

// Finish ends the run with status (FINISHED, FAILED or KILLED) and a reason
// (empty for FINISHED), and stops its heartbeat. It first writes what the
// store could not take yet, waiting up to the flush timeout, and retries the end
// itself as long. What could not be written is recorded in the reason and
// returned as the error, so the caller can say it. Only the first call
// counts; later calls return its result. Metrics logged stay as they are.
func (r *Run) Finish(status Status, reason string) error {
	switch status {
	case StatusFinished, StatusFailed, StatusKilled:
	default:
		return fmt.Errorf("tracker: run %s: finish: status %q is not FINISHED, FAILED or KILLED", short(r.id), status)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return r.finishErr
	}
	r.stopHeartbeat()
	deadline := time.Now().Add(r.store.flushTimeout())
	lost := r.flush(deadline)
	ownReason := reason
	if lost != nil {
		reason = strings.TrimPrefix(reason+"; store: "+lost.Error(), "; ")
	}
	now := r.store.nowMS()
	err := r.store.execRecordingEnd(deadline, `UPDATE runs SET status = ?, error = ?, end_time = ?, heartbeat = ?
		WHERE id = ? AND status IN ('RUNNING', 'LOST')`, string(status), r.store.scrubText(reason), now, now, r.id)
	switch {
	case err != nil && lost != nil:
		err = fmt.Errorf("tracker: run %s: not recorded as %s (%w); %v", short(r.id), status, err, lost)
	case err != nil:
		err = fmt.Errorf("tracker: run %s: finish: %w", short(r.id), err)
	case lost != nil:
		err = fmt.Errorf("tracker: run %s: recorded as %s, but %w", short(r.id), status, lost)
	}
	if err != nil { // the store lacks some of the run: save it where it can be pushed from
		err = fmt.Errorf("%w%s", err, r.spill(status, ownReason, now))
	}
	err = scrub(err, r.store.secret)
	r.finished, r.finishErr = true, err
	r.store.mu.Lock()
	delete(r.store.runs, r)
	r.store.mu.Unlock()
	return err
}

// Fail ends the run FAILED with err as the reason (FINISHED when err is nil).
func (r *Run) Fail(err error) error {
	if err == nil {
		return r.Finish(StatusFinished, "")
	}
	return r.Finish(StatusFailed, err.Error())
}

// beat updates the heartbeat every interval until stopped. A heartbeat also
// revives a run that a reader wrongly took for LOST: this process is alive.
func (r *Run) beat(interval time.Duration) {
	defer close(r.hbDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-r.hbStop:
			return
		case <-t.C:
			r.store.exec(`UPDATE runs SET heartbeat = ?,
				error = CASE status WHEN 'LOST' THEN '' ELSE error END, end_time = NULL, status = 'RUNNING'
				WHERE id = ? AND status IN ('RUNNING', 'LOST')`, r.store.nowMS(), r.id)
		}
	}
}

func (r *Run) stopHeartbeat() {
	r.hbOnce.Do(func() { close(r.hbStop) })
	<-r.hbDone
}

// short is the 8-character form of a run id used in messages.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// ErrNoRun is wrapped by the errors of lookups that find no run.
var ErrNoRun = errors.New("no such run")
