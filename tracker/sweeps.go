package tracker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The sweeps table (migration 5) has one row per hyperparameter sweep, with the trials it
// asked for. The trials themselves are ordinary runs tagged sweep.id and sweep.trial.

// Sweep is a hyperparameter sweep as the store records it. The queue that runs its trials is
// not the store's business (package sweeps owns it); each trial that ran is a run tagged
// TagSweepID and TagSweepTrial.
type Sweep struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	Experiment    string       `json:"experiment"`
	Model         string       `json:"model"`
	Spec          string       `json:"spec"`
	Metric        string       `json:"metric"`
	LowerIsBetter bool         `json:"lower_is_better"`
	Parameters    []string     `json:"parameters"` // the varied parameters, in the spec's order
	Trials        []SweepTrial `json:"trials"`
	Stopping      string       `json:"stopping,omitempty"` // the early-stopping rule, "" for none
	Created       time.Time    `json:"created"`
	Cancelled     time.Time    `json:"cancelled"` // zero unless cancelled
}

// SweepTrial is one trial a sweep asked for: its index and parameter values.
type SweepTrial struct {
	Index  int               `json:"index"`
	Params map[string]string `json:"params"`
	Seed   uint64            `json:"seed,omitempty"`
}

// Describe is the trial's values of params, in that order, then its seed (unless 0):
// "filters=8 noise=0.3 seed=1".
func (t SweepTrial) Describe(params []string) string {
	parts := make([]string, 0, len(params)+1)
	for _, p := range params {
		parts = append(parts, p+"="+t.Params[p])
	}
	if t.Seed != 0 {
		parts = append(parts, "seed="+strconv.FormatUint(t.Seed, 10))
	}
	return strings.Join(parts, " ")
}

// Tags of a sweep's trial runs: package sweeps writes them, reports and the UI read them.
const (
	TagSweepID           = "sweep.id"
	TagSweepTrial        = "sweep.trial"         // the trial's index in the sweep
	TagSweepAttempt      = "sweep.attempt"       // 1, then 2 for its first retry, …
	TagSweepName         = "sweep.name"          // the sweep's name
	TagSweepWorker       = "sweep.worker"        // host and pid of the worker that trained it
	TagSweepRetryOf      = "sweep.retry_of"      // the run of the attempt this one retries
	TagSweepRetriedBy    = "sweep.retried_by"    // on a dead or handed-back attempt: the run that retried it
	TagSweepStoppedEarly = "sweep.stopped_early" // why the early-stopping rule stopped it
	TagSweepStoppedEpoch = "sweep.stopped_epoch" // the last epoch it trained before that
	TagSweepParamPrefix  = "sweep.param."        // sweep.param.NAME: the value of each varied parameter
)

// ReasonSweepCancelled is the error recorded on a trial's run that was training when its
// sweep was cancelled (the run ends KILLED).
const ReasonSweepCancelled = "sweep cancelled"

// ShortID is the first 8 characters of the sweep id.
func (s *Sweep) ShortID() string { return short(s.ID) }

// ErrNoSweep is wrapped by the errors of lookups that find no sweep.
var ErrNoSweep = errors.New("no such sweep")

// Lock takes a lock named name, which other processes of the same store wait for, until
// unlock is called: one-time work such as installing tables then happens once. On PostgreSQL
// it is a session advisory lock on a connection of its own. On SQLite it takes nothing and
// unlock does nothing: the file's write lock already serialises writers, so do such work in
// one WriteTx there.
func (s *Store) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if s.d.name != Postgres {
		return func() {}, nil
	}
	w, err := s.writer()
	if err != nil {
		return nil, err
	}
	conn, err := w.Conn(ctx)
	if err != nil {
		return nil, scrub(err, s.secret)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext($1))`, name); err != nil {
		conn.Close()
		return nil, scrub(err, s.secret)
	}
	return func() {
		conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, name)
		conn.Close()
	}, nil
}

// NewID returns a new random UUID, as the store uses for runs and sweeps.
func NewID() string { return newUUID() }

// CreateSweepTx records a sweep inside tx (from WriteTx). The sweep's ID must be set (NewID);
// Created is set to now when zero.
func (s *Store) CreateSweepTx(tx *sql.Tx, sw *Sweep) error {
	if sw.ID == "" || sw.Name == "" || sw.Metric == "" {
		return errors.New("tracker: create sweep: id, name and metric are required")
	}
	if sw.Created.IsZero() {
		sw.Created = time.UnixMilli(s.nowMS())
	}
	params, err := json.Marshal(sw.Parameters)
	if err != nil {
		return err
	}
	trials, err := json.Marshal(sw.Trials)
	if err != nil {
		return err
	}
	_, err = sqlRunner{context.Background(), s.d, tx}.exec(`INSERT INTO sweeps(id, name, experiment, model, spec, metric, lower_is_better, parameters, trials, stopping, created)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		sw.ID, sw.Name, sw.Experiment, sw.Model, sw.Spec, sw.Metric, sw.LowerIsBetter, string(params), string(trials), sw.Stopping, sw.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("tracker: create sweep %s: %w", sw.Name, err)
	}
	return nil
}

// CancelSweepTx marks a sweep cancelled (the first time only) inside tx.
func (s *Store) CancelSweepTx(tx *sql.Tx, id string) error {
	if _, err := (sqlRunner{context.Background(), s.d, tx}).exec(`UPDATE sweeps SET cancelled = ? WHERE id = ? AND cancelled IS NULL`, s.nowMS(), id); err != nil {
		return fmt.Errorf("tracker: cancel sweep %s: %w", short(id), err)
	}
	return nil
}

const sweepColumns = `id, name, experiment, model, spec, metric, lower_is_better, parameters, trials, stopping, created, cancelled`

// GetSweep returns the sweep with this id or unique id prefix.
func (s *Store) GetSweep(idOrPrefix string) (*Sweep, error) {
	p := strings.ToLower(strings.TrimSpace(idOrPrefix))
	if p == "" {
		return nil, errors.New("tracker: empty sweep id")
	}
	rows, err := s.reader().query(`SELECT `+sweepColumns+` FROM sweeps WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 2`, len(p), p)
	if err != nil {
		return nil, fmt.Errorf("tracker: find sweep %s: %w", idOrPrefix, err)
	}
	found, err := scanSweeps(rows)
	if err != nil {
		return nil, fmt.Errorf("tracker: find sweep %s: %w", idOrPrefix, err)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("tracker: %w: no sweep with id %q in %s", ErrNoSweep, idOrPrefix, s.path)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("tracker: sweep id %q is ambiguous (%s, %s, …): give more characters", idOrPrefix, found[0].ShortID(), found[1].ShortID())
}

// Sweeps lists every sweep, newest first.
func (s *Store) Sweeps() ([]*Sweep, error) {
	rows, err := s.reader().query(`SELECT ` + sweepColumns + ` FROM sweeps ORDER BY created DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("tracker: list sweeps: %w", err)
	}
	out, err := scanSweeps(rows)
	if err != nil {
		return nil, fmt.Errorf("tracker: list sweeps: %w", err)
	}
	return out, nil
}

func scanSweeps(rows *sql.Rows) ([]*Sweep, error) {
	defer rows.Close()
	var out []*Sweep
	for rows.Next() {
		var sw Sweep
		var params, trials string
		var created int64
		var cancelled sql.NullInt64
		if err := rows.Scan(&sw.ID, &sw.Name, &sw.Experiment, &sw.Model, &sw.Spec, &sw.Metric, &sw.LowerIsBetter,
			&params, &trials, &sw.Stopping, &created, &cancelled); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(params), &sw.Parameters); err != nil {
			return nil, fmt.Errorf("sweep %s: parameters: %w", short(sw.ID), err)
		}
		if err := json.Unmarshal([]byte(trials), &sw.Trials); err != nil {
			return nil, fmt.Errorf("sweep %s: trials: %w", short(sw.ID), err)
		}
		sw.Created = time.UnixMilli(created)
		sw.Cancelled = msTime(cancelled)
		out = append(out, &sw)
	}
	return out, rows.Err()
}

// SweepRuns returns the runs of a sweep's trials (every attempt), by trial index then start
// time; trial >= 0 keeps only that trial's runs.
func (s *Store) SweepRuns(sweepID string, trial int) ([]*RunRecord, error) {
	lost := s.reapLost()
	q := `SELECT r.id FROM runs r JOIN tags t ON t.run_id = r.id AND t.key = ? AND t.value = ?`
	args := []any{TagSweepID, sweepID}
	if trial >= 0 {
		q += ` JOIN tags tt ON tt.run_id = r.id AND tt.key = ? AND tt.value = ?`
		args = append(args, TagSweepTrial, strconv.Itoa(trial))
	}
	rows, err := s.reader().query(q+` WHERE r.deleted = 0 ORDER BY r.start_time, r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("tracker: runs of sweep %s: %w", short(sweepID), err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tracker: runs of sweep %s: %w", short(sweepID), err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: runs of sweep %s: %w", short(sweepID), err)
	}
	runs, err := s.loadRuns(s.reader(), ids, lost, nil)
	if err != nil {
		return nil, fmt.Errorf("tracker: runs of sweep %s: %w", short(sweepID), err)
	}
	sort.SliceStable(runs, func(i, j int) bool { return trialOf(runs[i]) < trialOf(runs[j]) })
	return runs, nil
}

// trialOf is a sweep run's trial index (-1 when it has none).
func trialOf(r *RunRecord) int {
	n, err := strconv.Atoi(r.Tags[TagSweepTrial])
	if err != nil {
		return -1
	}
	return n
}

// SweepValue is one trial run's value of a metric at one epoch.
type SweepValue struct {
	RunID  string
	Trial  int
	Status Status
	Value  float64
}

// SweepEpochValues returns the value of metric key at epoch (the last one logged there) of
// every run of a sweep that logged it: what early-stopping rules compare a trial with.
func (s *Store) SweepEpochValues(sweepID, key string, epoch int) ([]SweepValue, error) {
	rows, err := s.reader().query(`SELECT r.id, tt.value, r.status, m.value FROM runs r
		JOIN tags t ON t.run_id = r.id AND t.key = ? AND t.value = ?
		JOIN tags tt ON tt.run_id = r.id AND tt.key = ?
		JOIN metrics m ON m.run_id = r.id AND m.key = ? AND m.epoch = ?
		WHERE r.deleted = 0 ORDER BY r.id, m.step`, TagSweepID, sweepID, TagSweepTrial, key, epoch)
	if err != nil {
		return nil, fmt.Errorf("tracker: %s of sweep %s at epoch %d: %w", key, short(sweepID), epoch, err)
	}
	defer rows.Close()
	var out []SweepValue
	for rows.Next() {
		var v SweepValue
		var trial string
		var value sql.NullFloat64
		if err := rows.Scan(&v.RunID, &trial, &v.Status, &value); err != nil {
			return nil, fmt.Errorf("tracker: %s of sweep %s: %w", key, short(sweepID), err)
		}
		v.Trial, _ = strconv.Atoi(trial)
		v.Value = math.NaN()
		if value.Valid {
			v.Value = value.Float64
		}
		if n := len(out); n > 0 && out[n-1].RunID == v.RunID {
			out[n-1] = v // a later step of the same epoch
			continue
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MarkLost records that a RUNNING run's process died (the caller knows, e.g. because the
// run's job was rescued from a dead worker): the run becomes LOST with reason, ending at its
// last heartbeat. A run that already ended keeps its status.
func (s *Store) MarkLost(runID, reason string) error {
	if _, err := s.exec(`UPDATE runs SET status = 'LOST', error = ?, end_time = COALESCE(heartbeat, start_time)
		WHERE id = ? AND status IN ('RUNNING', 'LOST')`, reason, runID); err != nil {
		return fmt.Errorf("tracker: run %s: mark lost: %w", short(runID), err)
	}
	return nil
}
