package tracker

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// MetricPoint is one logged value of a metric.
type MetricPoint struct {
	Step  int64     `json:"step"`
	Epoch int       `json:"epoch"`
	Value float64   `json:"value"`
	Time  time.Time `json:"time"`
}

// MarshalJSON writes NaN and ±Inf values as null (JSON has no such numbers).
func (p MetricPoint) MarshalJSON() ([]byte, error) {
	type point struct {
		Step  int64     `json:"step"`
		Epoch int       `json:"epoch"`
		Value *float64  `json:"value"`
		Time  time.Time `json:"time"`
	}
	q := point{Step: p.Step, Epoch: p.Epoch, Time: p.Time}
	if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
		v := p.Value
		q.Value = &v
	}
	return json.Marshal(q)
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
}

// SearchRuns returns the runs q selects, in its order. A malformed filter or
// order returns a *QueryError.
func (s *Store) SearchRuns(q Search) ([]*RunRecord, error) {
	where, order, err := ParseFilter(q.Filter)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(q.OrderBy) != "" {
		if order != nil {
			return nil, errors.New("query: order given twice (in the filter and in OrderBy)")
		}
		if order, err = ParseOrderBy(q.OrderBy); err != nil {
			return nil, err
		}
	}
	lost := s.reapLost()
	var b sqlBuilder
	b.w("SELECT runs.id FROM runs JOIN experiments e ON e.id = runs.experiment_id WHERE 1=1")
	if !q.IncludeDeleted {
		b.w(" AND runs.deleted = 0")
	}
	if q.Experiment != "" {
		b.w(" AND e.name = ")
		b.arg(q.Experiment)
	}
	if where != nil {
		b.w(" AND ")
		if err := where.sql(&b); err != nil {
			return nil, err
		}
	}
	b.w(" ORDER BY ")
	if len(order) > 0 {
		orderSQL(&b, order)
		b.w(", ")
	}
	b.w("runs.start_time DESC, runs.id")
	if q.Limit > 0 {
		b.w(" LIMIT ")
		b.arg(q.Limit)
	}
	rows, err := s.r.Query(b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("tracker: search runs: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tracker: search runs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: search runs: %w", err)
	}
	recs, err := s.loadRuns(ids, lost)
	if err != nil {
		return nil, fmt.Errorf("tracker: search runs: %w", err)
	}
	return recs, nil
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
	rows, err := s.r.Query(`SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6`, len(p), p)
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
	recs, err := s.loadRuns([]string{id}, lost)
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

// MetricHistory returns every logged value of one metric of a run (id or
// unique prefix), in step order.
func (s *Store) MetricHistory(runID, key string) ([]MetricPoint, error) {
	h, err := s.metricHistories(runID, &key)
	if err != nil {
		return nil, err
	}
	return h[key], nil
}

// MetricHistories returns the history of every metric of a run (id or unique prefix), by key.
func (s *Store) MetricHistories(runID string) (map[string][]MetricPoint, error) {
	return s.metricHistories(runID, nil)
}

func (s *Store) metricHistories(runID string, key *string) (map[string][]MetricPoint, error) {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return nil, err
	}
	q := `SELECT key, step, epoch, value, timestamp FROM metrics WHERE run_id = ?`
	args := []any{id}
	if key != nil {
		q += ` AND key = ?`
		args = append(args, *key)
	}
	q += ` ORDER BY key, step, timestamp, rowid`
	rows, err := s.r.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("tracker: metric history of %s: %w", short(id), err)
	}
	defer rows.Close()
	out := map[string][]MetricPoint{}
	for rows.Next() {
		var k string
		var p MetricPoint
		var v sql.NullFloat64
		var ts sql.NullInt64
		if err := rows.Scan(&k, &p.Step, &p.Epoch, &v, &ts); err != nil {
			return nil, fmt.Errorf("tracker: metric history of %s: %w", short(id), err)
		}
		p.Value = nullNaN(v)
		p.Time = msTime(ts)
		out[k] = append(out[k], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: metric history of %s: %w", short(id), err)
	}
	return out, nil
}

func nullNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// SetTag sets (or overwrites) a tag of a run (id or unique prefix).
func (s *Store) SetTag(runID, key, value string) error {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("tracker: run %s: set tag: empty key", short(id))
	}
	if _, err := s.w.Exec(`INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value`, id, key, value); err != nil {
		return fmt.Errorf("tracker: run %s: set tag %s: %w", short(id), key, err)
	}
	return nil
}

// DeleteRun hides a run (id or unique prefix) from searches; its data stays
// (Search.IncludeDeleted shows it, UndeleteRun brings it back).
func (s *Store) DeleteRun(runID string) error { return s.setDeleted(runID, true) }

// UndeleteRun brings back a run removed with DeleteRun.
func (s *Store) UndeleteRun(runID string) error { return s.setDeleted(runID, false) }

func (s *Store) setDeleted(runID string, deleted bool) error {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return err
	}
	if _, err := s.w.Exec(`UPDATE runs SET deleted = ? WHERE id = ?`, deleted, id); err != nil {
		return fmt.Errorf("tracker: run %s: delete: %w", short(id), err)
	}
	return nil
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
	rows, err := s.r.Query(`SELECT e.id, e.name, e.created, count(r.id), max(r.start_time)
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

// ---- lost runs

// staleAfter is how old a heartbeat may be before a run is taken for lost.
func staleAfter(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	return max(3*interval, 30*time.Second)
}

// lostReason says why a RUNNING run is lost, or "" if it may be alive.
func lostReason(pid int, host string, heartbeat time.Time, interval time.Duration, now time.Time) string {
	myHost, _ := os.Hostname()
	if host != "" && host == myHost && pid > 0 && pid != os.Getpid() && !processAlive(pid) {
		return fmt.Sprintf("process %d on %s is gone", pid, host)
	}
	if !heartbeat.IsZero() && now.Sub(heartbeat) > staleAfter(interval) {
		return fmt.Sprintf("no heartbeat since %s", heartbeat.Format("2006-01-02 15:04:05"))
	}
	return ""
}

// reapLost finds RUNNING runs whose process is gone and marks them LOST in the
// store (only if the row is unchanged since it was read). It returns every
// lost run found, so readers can report them even where the write failed.
func (s *Store) reapLost() map[string]string {
	rows, err := s.r.Query(`SELECT id, owner_pid, owner_host, heartbeat, heartbeat_interval FROM runs WHERE status = 'RUNNING'`)
	if err != nil {
		return nil
	}
	type cand struct {
		id, reason string
		hb         sql.NullInt64
	}
	var found []cand
	now := time.Now()
	for rows.Next() {
		var c cand
		var pid int
		var host string
		var interval sql.NullInt64
		if err := rows.Scan(&c.id, &pid, &host, &c.hb, &interval); err != nil {
			continue
		}
		c.reason = lostReason(pid, host, msTime(c.hb), time.Duration(interval.Int64)*time.Millisecond, now)
		if c.reason != "" {
			found = append(found, c)
		}
	}
	rows.Close()
	if len(found) == 0 {
		return nil
	}
	lost := make(map[string]string, len(found))
	for _, c := range found {
		lost[c.id] = c.reason
		s.w.Exec(`UPDATE runs SET status = 'LOST', error = ?, end_time = heartbeat
			WHERE id = ? AND status = 'RUNNING' AND heartbeat IS ?`, c.reason, c.id, c.hb)
	}
	return lost
}

// ---- loading records

// loadRuns loads full records for ids, in that order.
func (s *Store) loadRuns(ids []string, lost map[string]string) ([]*RunRecord, error) {
	byID := make(map[string]*RunRecord, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := s.loadChunk(in, args, byID); err != nil {
			return nil, err
		}
	}
	out := make([]*RunRecord, 0, len(ids))
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			continue
		}
		if reason, ok := lost[id]; ok && r.Status == StatusRunning {
			r.Status, r.Error, r.EndTime = StatusLost, reason, r.Heartbeat
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Store) loadChunk(in string, args []any, byID map[string]*RunRecord) error {
	rows, err := s.r.Query(`SELECT runs.id, e.name, runs.name, runs.status, runs.start_time, runs.end_time,
		runs.source, runs.error, runs.config, runs.owner_pid, runs.owner_host, runs.heartbeat, runs.deleted
		FROM runs JOIN experiments e ON e.id = runs.experiment_id WHERE runs.id IN `+in, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		r := &RunRecord{Params: map[string]string{}, Tags: map[string]string{},
			Metrics: map[string]float64{}, LatestMetrics: map[string]MetricPoint{}, Artifacts: []Artifact{}}
		var start, end, hb sql.NullInt64
		var config sql.NullString
		var status string
		if err := rows.Scan(&r.ID, &r.Experiment, &r.Name, &status, &start, &end, &r.Source, &r.Error,
			&config, &r.OwnerPID, &r.OwnerHost, &hb, &r.Deleted); err != nil {
			rows.Close()
			return err
		}
		r.Status = Status(status)
		r.StartTime, r.EndTime, r.Heartbeat = msTime(start), msTime(end), msTime(hb)
		if config.Valid && config.String != "" {
			r.Config = json.RawMessage(config.String)
		}
		byID[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, table := range []string{"params", "tags"} {
		rows, err := s.r.Query(`SELECT run_id, key, value FROM `+table+` WHERE run_id IN `+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return err
			}
			if r := byID[id]; r != nil {
				if table == "params" {
					r.Params[k] = v
				} else {
					r.Tags[k] = v
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	rows, err = s.r.Query(`SELECT run_id, key, step, epoch, value, timestamp FROM latest_metrics WHERE run_id IN `+in, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, k string
		var p MetricPoint
		var v sql.NullFloat64
		var ts sql.NullInt64
		if err := rows.Scan(&id, &k, &p.Step, &p.Epoch, &v, &ts); err != nil {
			rows.Close()
			return err
		}
		p.Value, p.Time = nullNaN(v), msTime(ts)
		if r := byID[id]; r != nil {
			r.Metrics[k] = p.Value
			r.LatestMetrics[k] = p
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.r.Query(`SELECT run_id, kind, path, description, created FROM artifacts WHERE run_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var a Artifact
		var created sql.NullInt64
		if err := rows.Scan(&id, &a.Kind, &a.Path, &a.Description, &created); err != nil {
			rows.Close()
			return err
		}
		a.Created = msTime(created)
		if r := byID[id]; r != nil {
			r.Artifacts = append(r.Artifacts, a)
		}
	}
	rows.Close()
	return rows.Err()
}
