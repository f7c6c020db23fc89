package tracker

import (
	"context"
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
	Running bool
	// Overwrite replaces runs edited in the target since they were last copied
	// (conflicts) with the source's; by default they are left as they are.
	Overwrite bool
	// DryRun decides and counts as a copy would, and writes nothing: no rows,
	// no files, no marks.
	DryRun    bool
	BatchSize int             // runs per transaction; DefaultCopyBatch when 0
	Progress  func(CopyStats) // called after each batch, with the counts so far
}

// CopyStats counts what Copy did (or, with DryRun, would do).
type CopyStats struct {
	Selected  int `json:"selected"`  // runs the filter selected in the source
	Copied    int `json:"copied"`    // new in the target
	Updated   int `json:"updated"`   // changed in the source (or tags merged): the target's replaced
	Unchanged int `json:"unchanged"` // in the target already, the same
	Running   int `json:"running"`   // left out because they were RUNNING
	Metrics   int `json:"metrics"`   // metric rows written
	Files     int `json:"files"`     // artifact files copied
	// Refused are the runs left out because a row of theirs cannot be trusted
	// (an id that is not a UUID, an unknown status) or stored in the target
	// (text PostgreSQL refuses).
	Refused []CopyNote `json:"refused,omitempty"`
	// Conflicts are runs edited in the target since they were last copied (or
	// never copied and different): left as they are unless Overwrite.
	Conflicts []CopyConflict `json:"conflicts,omitempty"`
	// KeptDeleted are the ids of runs deleted in the target since they were
	// copied: they stay deleted.
	KeptDeleted []string `json:"kept_deleted,omitempty"`
	// TagsKept are tags the target changed since the last copy that differ
	// from the source's: the target's value stays.
	TagsKept []CopyTagNote `json:"tags_kept,omitempty"`
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

// CopyConflict is a run whose copy in the target was edited since the last
// copy and differs from the source's: Fields say where (of contentFields and
// "tags"). Name is the target's, as stored.
type CopyConflict struct {
	RunID       string   `json:"run_id"`
	Name        string   `json:"name"`
	Fields      []string `json:"fields"`
	Overwritten bool     `json:"overwritten"` // replaced by the source's (CopyOptions.Overwrite)
}

// CopyTagNote is a tag whose target value (nil: removed there) was kept over
// the source's (nil: the source has none).
type CopyTagNote struct {
	RunID  string  `json:"run_id"`
	Key    string  `json:"key"`
	Target *string `json:"target"`
	Source *string `json:"source"`
}

// Copy copies runs from src into dst: config, params, tags, the full metric
// history, artifact records and their files (into dst's artifact root,
// recorded relative to it). Experiments are matched by name, runs by their
// UUIDs.
//
// dst records what each copy left there (its copy marks), so a later copy
// knows which side changed: a run changed in src only is updated; a run edited
// in dst since (or never copied, and different) is a conflict, reported with
// the fields that differ and left alone unless o.Overwrite; a run deleted in
// dst stays deleted; tags merge, the value changed in dst since the last copy
// winning (and reported when src's differs). Content is compared by digest:
// name, status, params, config, every metric value and artifacts, not counts.
// Copying twice copies nothing new.
//
// Rows from src are untrusted: a run whose id is not a canonical UUID is
// refused (noted in the stats), and an artifact's files are read only from
// inside src's artifact root, links resolved, and written only under dst's
// root at a path made from the run's id. Each batch of runs is one
// transaction, its files copied before it commits, so an interrupted copy
// resumes where it stopped.
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
		if err := copyBatch(ctx, dst, src, ids[start:min(start+o.BatchSize, len(ids))], o, &st); err != nil {
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

// copyBatch copies the runs ids as planRun decides, with their files, and
// records their marks, in one transaction of dst.
func copyBatch(ctx context.Context, dst, src *Store, ids []string, o CopyOptions, st *CopyStats) error {
	from, err := src.readRuns(ids)
	if err != nil {
		return err
	}
	to, err := dst.readRuns(ids)
	if err != nil {
		return err
	}
	marks, err := dst.readMarks(ids)
	if err != nil {
		return err
	}
	var todo []*copiedRun
	var replace []string
	var markRows [][]any
	now := dst.nowMS()
	for _, id := range ids {
		r := from[id]
		if r == nil {
			continue // deleted from the source meanwhile
		}
		if reason := r.checkRow(dst.d.name); reason != "" {
			st.Refused = append(st.Refused, CopyNote{RunID: id, Reason: reason})
			continue
		}
		act, tags := planRun(r, to[id], marks[id], o.Overwrite, st)
		digest := r.contentDigest()
		switch act {
		case copySkip:
			continue
		case copyUnchanged:
			st.Unchanged++
			if m := marks[id]; m == nil || m.digest != digest || !maps.Equal(m.sourceTags, r.tags) || !maps.Equal(m.targetTags, tags) {
				markRows = append(markRows, markRow(id, digest, r.tags, tags, now))
			}
			continue
		case copyNew:
			st.Copied++
		case copyUpdate:
			st.Updated++
			replace = append(replace, id)
		}
		markRows = append(markRows, markRow(id, digest, r.tags, tags, now))
		w := *r
		w.tags = tags
		w.artifacts = slices.Clone(r.artifacts)
		todo = append(todo, &w)
	}
	for _, r := range todo {
		for i, a := range r.artifacts {
			stored, files, missing, err := copyArtifact(dst, src, r.id, a, o.DryRun)
			if err != nil {
				return err
			}
			r.artifacts[i].path = stored
			st.Files += files
			if missing != "" {
				st.MissingFiles = append(st.MissingFiles, CopyNote{RunID: r.id, Path: a.path, Reason: missing})
			}
		}
		st.Metrics += len(r.history)
	}
	if o.DryRun || len(todo)+len(markRows) == 0 {
		return nil
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
		var metricRows, latestRows, artRows [][]any
		for _, r := range todo {
			runRows[0] = append(runRows[0], []any{r.id, expIDs[r.experiment], r.name, r.status, r.start, r.end, r.source,
				r.errText, r.config, r.pid, r.host, r.deleted, r.heartbeat, r.interval})
			for i, kv := range []map[string]string{r.params, r.tags} {
				for _, k := range slices.Sorted(maps.Keys(kv)) {
					kvRows[i] = append(kvRows[i], []any{r.id, k, kv[k]})
				}
			}
			metricRows = append(metricRows, r.history...)
			latestRows = append(latestRows, r.latest...)
			for _, a := range r.artifacts {
				artRows = append(artRows, []any{r.id, a.kind, a.path, a.description, a.created})
			}
		}
		for _, ins := range []struct {
			table  string
			cols   []string
			rows   [][]any
			suffix string
		}{
			{"runs", []string{"id", "experiment_id", "name", "status", "start_time", "end_time", "source", "error",
				"config", "owner_pid", "owner_host", "deleted", "heartbeat", "heartbeat_interval"}, runRows[0], ""},
			{"params", []string{"run_id", "key", "value"}, kvRows[0], ""},
			{"tags", []string{"run_id", "key", "value"}, kvRows[1], ""},
			{"metrics", metricColumns, metricRows, ""},
			{"latest_metrics", metricColumns, latestRows, ""},
			{"artifacts", artifactColumns, artRows, ""},
			{"copy_marks", markColumns, markRows, markUpsert},
		} {
			if err := insertRows(tx, ins.table, ins.cols, ins.rows, ins.suffix); err != nil {
				return fmt.Errorf("%s: %w", ins.table, err)
			}
		}
		return nil
	})
}

var (
	metricColumns   = []string{"run_id", "key", "step", "epoch", "value", "timestamp"}
	artifactColumns = []string{"run_id", "kind", "path", "description", "created"}
)

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
