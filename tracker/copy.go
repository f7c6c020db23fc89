package tracker

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultCopyBatch is how many runs Copy writes per transaction.
const DefaultCopyBatch = 100

// CopyOptions say which runs Copy copies and how.
type CopyOptions struct {
	Filter         string // the runs to copy, in the query language; empty for all
	IncludeDeleted bool   // copy runs removed with DeleteRun too
	// Running copies RUNNING runs with their status (a later copy brings their
	// end). By default they are left out, and counted: their histories are not
	// complete yet.
	Running   bool
	BatchSize int             // runs per transaction; DefaultCopyBatch when 0
	Progress  func(CopyStats) // called after each batch, with the counts so far
}

// CopyStats counts what Copy did.
type CopyStats struct {
	Selected  int `json:"selected"`  // runs the filter selected in the source
	Copied    int `json:"copied"`    // new in the target
	Updated   int `json:"updated"`   // in the target already but different: replaced by the source's
	Unchanged int `json:"unchanged"` // in the target already, the same
	Running   int `json:"running"`   // left out because they were RUNNING
	Metrics   int `json:"metrics"`   // metric rows written
	Files     int `json:"files"`     // artifact files copied
	// Refused are the runs left out because a row of theirs cannot be trusted
	// (an id that is not a UUID).
	Refused []CopyNote `json:"refused,omitempty"`
	// MissingFiles are artifacts recorded in the target without their files:
	// the source lacks them, or their path is not safely inside the source's
	// artifact folder (then nothing is read from it).
	MissingFiles []CopyNote `json:"missing_files,omitempty"`
}

// CopyNote is a run, or an artifact of a run, that Copy left out, and why.
// The texts come from the source store as they are: escape them for a terminal.
type CopyNote struct {
	RunID  string `json:"run_id"`
	Path   string `json:"path,omitempty"` // the artifact's path as the source records it
	Reason string `json:"reason"`
}

// Copy copies runs from src into dst: config, params, tags, the full metric
// history, artifact records and their files (into dst's artifact root,
// recorded relative to it). Runs are known by their UUIDs: a run dst holds
// already is left alone when it is the same and replaced by src's when it
// differs (a run that finished since the last copy), so copying twice copies
// nothing new. Each batch of runs is one transaction, its files copied before
// it commits, so an interrupted copy resumes where it stopped. Experiments are
// matched by name.
func Copy(ctx context.Context, dst, src *Store, o CopyOptions) (CopyStats, error) {
	var st CopyStats
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultCopyBatch
	}
	ids, err := src.copyCandidates(o, &st)
	if err != nil {
		return st, err
	}
	for start := 0; start < len(ids); start += o.BatchSize {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := copyBatch(ctx, dst, src, ids[start:min(start+o.BatchSize, len(ids))], &st); err != nil {
			return st, fmt.Errorf("tracker: copy runs from %s to %s: %w", src.path, dst.path, err)
		}
		if o.Progress != nil {
			o.Progress(st)
		}
	}
	return st, nil
}

// copyCandidates lists the runs o selects in s, oldest first, leaving out (and
// counting) RUNNING ones unless o.Running.
func (s *Store) copyCandidates(o CopyOptions, st *CopyStats) ([]string, error) {
	q := Search{Filter: o.Filter, IncludeDeleted: o.IncludeDeleted}
	where, _, err := parseSearch(q)
	if err != nil {
		return nil, err
	}
	lost := s.reapLost()
	b, err := s.searchSQL(q, where, lost, "runs.id, runs.status")
	if err != nil {
		return nil, err
	}
	b.w(" ORDER BY runs.start_time, runs.id")
	rows, err := s.reader().query(b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("tracker: copy runs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			return nil, err
		}
		st.Selected++
		if !validRunID(id) {
			st.Refused = append(st.Refused, CopyNote{RunID: id, Reason: "its id is not a UUID"})
			continue
		}
		if _, dead := lost[id]; status == string(StatusRunning) && !dead && !o.Running {
			st.Running++
			continue
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// copiedRun is one run as stored, with what Copy compares and writes.
type copiedRun struct {
	id, experiment, name, status, source, errText string
	start                                         int64
	end, heartbeat, interval                      sql.NullInt64
	config                                        sql.NullString
	pid, deleted                                  int
	host                                          string
	params, tags                                  map[string]string
	metrics                                       int // metric rows
	artifacts                                     []artifactRow
}

type artifactRow struct {
	kind, path, description string
	created                 int64
}

// same reports whether two stored copies of a run hold the same.
func (a *copiedRun) same(b *copiedRun) bool {
	return a.status == b.status && a.end == b.end && a.name == b.name && a.errText == b.errText &&
		a.deleted == b.deleted && a.metrics == b.metrics && len(a.artifacts) == len(b.artifacts) &&
		maps.Equal(a.params, b.params) && maps.Equal(a.tags, b.tags)
}

// readRuns reads what Copy compares of the runs ids (those s has).
func (s *Store) readRuns(ids []string) (map[string]*copiedRun, error) {
	in, args := placeholders(len(ids)), anys(ids)
	q := s.reader()
	out := map[string]*copiedRun{}
	rows, err := q.query(`SELECT runs.id, e.name, runs.name, runs.status, runs.start_time, runs.end_time, runs.source,
		runs.error, runs.config, runs.owner_pid, runs.owner_host, runs.deleted, runs.heartbeat, runs.heartbeat_interval
		FROM runs JOIN experiments e ON e.id = runs.experiment_id WHERE runs.id IN `+in, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		r := &copiedRun{params: map[string]string{}, tags: map[string]string{}}
		if err := rows.Scan(&r.id, &r.experiment, &r.name, &r.status, &r.start, &r.end, &r.source, &r.errText,
			&r.config, &r.pid, &r.host, &r.deleted, &r.heartbeat, &r.interval); err != nil {
			rows.Close()
			return nil, err
		}
		out[r.id] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, table := range []string{"params", "tags"} {
		rows, err := q.query(`SELECT run_id, key, value FROM `+table+` WHERE run_id IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return nil, err
			}
			switch r := out[id]; {
			case r == nil: // its run row is missing (the source's foreign keys were off)
			case table == "params":
				r.params[k] = v
			default:
				r.tags[k] = v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err = q.query(`SELECT run_id, count(*) FROM metrics WHERE run_id IN `+in+` GROUP BY run_id`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if r := out[id]; r != nil {
			r.metrics = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.query(`SELECT run_id, kind, path, description, created FROM artifacts WHERE run_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a artifactRow
		if err := rows.Scan(&id, &a.kind, &a.path, &a.description, &a.created); err != nil {
			return nil, err
		}
		if r := out[id]; r != nil {
			r.artifacts = append(r.artifacts, a)
		}
	}
	return out, rows.Err()
}

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// copyBatch copies the runs ids that dst lacks or holds differently.
func copyBatch(ctx context.Context, dst, src *Store, ids []string, st *CopyStats) error {
	from, err := src.readRuns(ids)
	if err != nil {
		return err
	}
	to, err := dst.readRuns(ids)
	if err != nil {
		return err
	}
	var todo []*copiedRun
	var replace []string
	for _, id := range ids {
		r := from[id]
		if r == nil {
			continue // deleted from the source meanwhile
		}
		switch old := to[id]; {
		case old == nil:
			st.Copied++
		case old.same(r):
			st.Unchanged++
			continue
		default:
			st.Updated++
			replace = append(replace, id)
		}
		todo = append(todo, r)
	}
	if len(todo) == 0 {
		return nil
	}
	for _, r := range todo {
		for i, a := range r.artifacts {
			stored, files, missing, err := copyArtifact(dst, src, r.id, a, false)
			if err != nil {
				return err
			}
			r.artifacts[i].path = stored
			st.Files += files
			if missing != "" {
				st.MissingFiles = append(st.MissingFiles, CopyNote{RunID: r.id, Path: a.path, Reason: missing})
			}
		}
	}
	metrics, latest, err := src.readMetrics(todo)
	if err != nil {
		return err
	}
	return dst.writeTxContext(ctx, func(tx sqlRunner) error {
		if len(replace) > 0 { // their params, tags, metrics and artifacts go with them (ON DELETE CASCADE)
			if _, err := tx.exec(`DELETE FROM runs WHERE id IN `+placeholders(len(replace)), anys(replace)...); err != nil {
				return err
			}
		}
		expIDs, err := experimentIDs(tx, todo)
		if err != nil {
			return err
		}
		var runRows, kvRows [2][][]any
		var artRows [][]any
		for _, r := range todo {
			runRows[0] = append(runRows[0], []any{r.id, expIDs[r.experiment], r.name, r.status, r.start, r.end, r.source,
				r.errText, r.config, r.pid, r.host, r.deleted, r.heartbeat, r.interval})
			for i, kv := range []map[string]string{r.params, r.tags} {
				for _, k := range slices.Sorted(maps.Keys(kv)) {
					kvRows[i] = append(kvRows[i], []any{r.id, k, kv[k]})
				}
			}
			for _, a := range r.artifacts {
				artRows = append(artRows, []any{r.id, a.kind, a.path, a.description, a.created})
			}
		}
		for _, ins := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"runs", []string{"id", "experiment_id", "name", "status", "start_time", "end_time", "source", "error",
				"config", "owner_pid", "owner_host", "deleted", "heartbeat", "heartbeat_interval"}, runRows[0]},
			{"params", []string{"run_id", "key", "value"}, kvRows[0]},
			{"tags", []string{"run_id", "key", "value"}, kvRows[1]},
			{"metrics", metricColumns, metrics},
			{"latest_metrics", metricColumns, latest},
			{"artifacts", artifactColumns, artRows},
		} {
			if err := insertRows(tx, ins.table, ins.cols, ins.rows, ""); err != nil {
				return fmt.Errorf("%s: %w", ins.table, err)
			}
		}
		st.Metrics += len(metrics)
		return nil
	})
}

var (
	metricColumns   = []string{"run_id", "key", "step", "epoch", "value", "timestamp"}
	artifactColumns = []string{"run_id", "kind", "path", "description", "created"}
)

// readMetrics reads the metric histories and latest values of runs, in logged order.
func (s *Store) readMetrics(runs []*copiedRun) (history, latest [][]any, err error) {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.id
	}
	in, args := placeholders(len(ids)), anys(ids)
	for _, q := range []struct {
		sql string
		dst *[][]any
	}{
		{`SELECT run_id, key, step, epoch, value, timestamp FROM metrics WHERE run_id IN ` + in +
			` ORDER BY run_id, key, step, ` + s.d.rowOrder, &history},
		{`SELECT run_id, key, step, epoch, value, timestamp FROM latest_metrics WHERE run_id IN ` + in, &latest},
	} {
		rows, err := s.reader().query(q.sql, args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id, key string
			var step, ts int64
			var epoch int
			var v sql.NullFloat64
			if err := rows.Scan(&id, &key, &step, &epoch, &v, &ts); err != nil {
				rows.Close()
				return nil, nil, err
			}
			*q.dst = append(*q.dst, []any{id, key, step, epoch, v, ts})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return history, latest, nil
}

// experimentIDs makes sure the runs' experiments exist in the store tx writes
// to, and returns their ids there by name.
func experimentIDs(tx sqlRunner, runs []*copiedRun) (map[string]int64, error) {
	ids := map[string]int64{}
	for _, r := range runs {
		if _, ok := ids[r.experiment]; ok {
			continue
		}
		if _, err := tx.exec(`INSERT INTO experiments(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`, r.experiment, r.start); err != nil {
			return nil, err
		}
		var id int64
		if err := tx.queryRow(`SELECT id FROM experiments WHERE name = ?`, r.experiment).Scan(&id); err != nil {
			return nil, err
		}
		ids[r.experiment] = id
	}
	return ids, nil
}

// maxInsertArgs bounds the bound values of one INSERT (SQLite allows 32,766,
// PostgreSQL 65,535).
const maxInsertArgs = 8000

// insertRows inserts rows (len(cols) values each) into table, many rows a
// statement, each statement ending with suffix (an ON CONFLICT clause, say).
func insertRows(tx sqlRunner, table string, cols []string, rows [][]any, suffix string) error {
	per := max(1, maxInsertArgs/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + "(" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(part)*len(cols))
		for i, r := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		b.WriteString(suffix)
		if _, err := tx.exec(b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
