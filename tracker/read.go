package tracker

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aelab/aelab/tracker/query"
)

// MetricPoint is one logged value of a metric.
type MetricPoint struct {
	Step  int64     `json:"step"`
	Epoch int       `json:"epoch"`
	Value float64   `json:"value"`
	Time  time.Time `json:"time"`
}

// Artifact is a file a run produced.
type Artifact struct {
	Kind        string    `json:"kind"`
	Path        string    `json:"path"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
}

// RunRecord is everything the store knows about one run.
type RunRecord struct {
	ID         string            `json:"id"`
	Experiment string            `json:"experiment"`
	Name       string            `json:"name"`
	Status     Status            `json:"status"`
	StartTime  time.Time         `json:"start_time"`
	EndTime    time.Time         `json:"end_time"` // zero while running
	Source     string            `json:"source,omitempty"`
	Error      string            `json:"error,omitempty"` // why it FAILED, was KILLED or LOST
	Config     json.RawMessage   `json:"config,omitempty"`
	Params     map[string]string `json:"params"`
	Tags       map[string]string `json:"tags"`
	// Metrics is the latest value (highest step) of each metric.
	Metrics map[string]float64 `json:"-"`
	// LatestMetrics is the latest point of each metric, with its step and epoch.
	LatestMetrics map[string]MetricPoint `json:"metrics"`
	Artifacts     []Artifact             `json:"artifacts"`
	OwnerPID      int                    `json:"owner_pid"`
	OwnerHost     string                 `json:"owner_host"`
	Heartbeat     time.Time              `json:"heartbeat"`
	Deleted       bool                   `json:"deleted,omitempty"`
}

// Duration is how long the run ran (until its last heartbeat if it is still running or lost).
func (r *RunRecord) Duration() time.Duration {
	end := r.EndTime
	if end.IsZero() {
		end = r.Heartbeat
		if r.Status == StatusRunning {
			end = time.Now()
		}
	}
	if end.IsZero() || end.Before(r.StartTime) {
		return 0
	}
	return end.Sub(r.StartTime)
}

// ShortID is the first 8 characters of the run id.
func (r *RunRecord) ShortID() string { return short(r.ID) }

// Search selects runs. The zero value selects every run not deleted, newest first.
type Search struct {
	Filter         string // filter expression (see package doc); empty for all
	OrderBy        string // e.g. "metrics.val_mse asc, attributes.start_time desc"
	Limit          int    // at most this many runs; 0 for no limit
	IncludeDeleted bool   // include runs removed with DeleteRun
	Experiment     string // only runs of this experiment; empty for all
	// Columns, when not nil, limits the params, tags and metrics SearchRuns
	// loads into each record to these (a table that shows a few needs no
	// more); a query.Field with an empty Key stands for every key of its kind.
	// Attributes and artifacts are always loaded.
	Columns []query.Field
}

// SearchRuns returns the runs q selects, in its order. A malformed filter or
// order returns a *query.Error.
func (s *Store) SearchRuns(q Search) ([]*RunRecord, error) {
	ids, lost, err := s.searchIDs(q)
	if err != nil {
		return nil, err
	}
	recs, err := s.loadRuns(s.reader(), ids, lost, q.Columns)
	if err != nil {
		return nil, fmt.Errorf("tracker: search runs: %w", err)
	}
	return recs, nil
}

// searchIDs returns the ids of the runs q selects, in its order, with the reasons of the
// RUNNING runs found lost (by id).
func (s *Store) searchIDs(q Search) ([]string, map[string]string, error) {
	where, order, err := parseSearch(q)
	if err != nil {
		return nil, nil, err
	}
	lost := s.reapLost()
	b, err := s.searchSQL(q, where, lost, "runs.id")
	if err != nil {
		return nil, nil, err
	}
	orderBy(b, order)
	if q.Limit > 0 {
		b.w(" LIMIT ")
		b.arg(q.Limit)
	}
	ids, err := s.reader().strings(b.String(), b.args...)
	if err != nil {
		return nil, nil, fmt.Errorf("tracker: search runs: %w", err)
	}
	return ids, lost, nil
}

// ResolveRunID turns a full id or a unique id prefix into the full id.
// Deleted runs are found too.
func (s *Store) ResolveRunID(idOrPrefix string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(idOrPrefix))
	if p == "" {
		return "", errors.New("tracker: empty run id")
	}
	for _, c := range p {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return "", fmt.Errorf("tracker: %w: no run with id %q (ids are hexadecimal)", ErrNoRun, idOrPrefix)
		}
	}
	rows, err := s.reader().query(`SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6`, len(p), p)
	if err != nil {
		return "", fmt.Errorf("tracker: find run %s: %w", idOrPrefix, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", fmt.Errorf("tracker: find run %s: %w", idOrPrefix, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("tracker: find run %s: %w", idOrPrefix, err)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("tracker: %w: no run with id %q in %s", ErrNoRun, idOrPrefix, s.path)
	case 1:
		return ids[0], nil
	}
	shown := make([]string, 0, len(ids))
	for i, id := range ids {
		if i == 5 {
			shown = append(shown, "…")
			break
		}
		shown = append(shown, id)
	}
	return "", fmt.Errorf("tracker: run id %q is ambiguous: it starts %s; type more of it", idOrPrefix, strings.Join(shown, ", "))
}

// GetRun returns one run by id or unique id prefix (like git), deleted or not.
func (s *Store) GetRun(idOrPrefix string) (*RunRecord, error) {
	id, err := s.ResolveRunID(idOrPrefix)
	if err != nil {
		return nil, err
	}
	lost := s.reapLost()
	recs, err := s.loadRuns(s.reader(), []string{id}, lost, nil)
	if err != nil {
		return nil, fmt.Errorf("tracker: get run %s: %w", idOrPrefix, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("tracker: %w: no run with id %q", ErrNoRun, idOrPrefix)
	}
	return recs[0], nil
}

// LatestRun is the first run q selects: the newest one unless q.OrderBy says
// otherwise (q.Limit is ignored). A notebook cell finds the run an earlier cell
// made with e.g. LatestRun(Search{Filter: "tags.notebook = '02-vanilla'"}).
// When no run matches, the error wraps ErrNoRun.
func (s *Store) LatestRun(q Search) (*RunRecord, error) {
	q.Limit = 1
	runs, err := s.SearchRuns(q)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		what := q.Filter
		if what == "" {
			what = "any filter"
		}
		if q.Experiment != "" {
			what += " in experiment " + strconv.Quote(q.Experiment)
		}
		return nil, fmt.Errorf("tracker: %w: none matches %s in %s", ErrNoRun, what, s.path)
	}
	return runs[0], nil
}

// ExperimentInfo describes one experiment.
type ExperimentInfo struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Runs    int       `json:"runs"`     // runs not deleted
	LastRun time.Time `json:"last_run"` // start of the newest run not deleted; zero if none
}

// Experiments lists the experiments by name, with their run counts.
func (s *Store) Experiments() ([]ExperimentInfo, error) {
	rows, err := s.reader().query(`SELECT e.id, e.name, e.created, count(r.id), max(r.start_time)
		FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id AND r.deleted = 0
		GROUP BY e.id ORDER BY e.name`)
	if err != nil {
		return nil, fmt.Errorf("tracker: list experiments: %w", err)
	}
	defer rows.Close()
	var out []ExperimentInfo
	for rows.Next() {
		var e ExperimentInfo
		var created, last sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Name, &created, &e.Runs, &last); err != nil {
			return nil, fmt.Errorf("tracker: list experiments: %w", err)
		}
		e.Created, e.LastRun = msTime(created), msTime(last)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: list experiments: %w", err)
	}
	return out, nil
}
