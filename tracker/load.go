package tracker

import (
	"database/sql"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aelab/aelab/tracker/query"
)

// loadRuns loads the records of ids, in that order, through db: with every param, tag
// and metric, or, when columns is not nil, only those columns names.
func (s *Store) loadRuns(db sqlRunner, ids []string, lost map[string]string, columns []query.Field) ([]*RunRecord, error) {
	byID := make(map[string]*RunRecord, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := s.loadChunk(db, in, args, byID, columns); err != nil {
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

func (s *Store) loadChunk(db sqlRunner, in string, args []any, byID map[string]*RunRecord, columns []query.Field) error {
	// keyed limits a query on table (kind) to the columns' keys; ok is false
	// when none of its keys is asked for.
	keyed := func(kind query.FieldKind, query string) (string, []any, bool) {
		if columns == nil {
			return query, args, true
		}
		keys := []any{}
		for _, f := range columns {
			switch {
			case f.Kind != kind:
			case f.Key == "": // all of its kind
				return query, args, true
			default:
				keys = append(keys, f.Key)
			}
		}
		return query + ` AND key IN ` + placeholders(len(keys)), append(slices.Clone(args), keys...), len(keys) > 0
	}
	rows, err := db.query(`SELECT runs.id, e.name, runs.name, runs.status, runs.start_time, runs.end_time,
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
		q, qargs, ok := keyed(query.FieldKind(table), `SELECT run_id, key, value FROM `+table+` WHERE run_id IN `+in)
		if !ok {
			continue
		}
		rows, err := db.query(q, qargs...)
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
	if q, qargs, ok := keyed(query.FieldMetric, `SELECT run_id, key, step, epoch, value, timestamp FROM latest_metrics WHERE run_id IN `+in); ok {
		if err := loadLatest(db, q, qargs, byID); err != nil {
			return err
		}
	}
	rows, err = db.query(`SELECT run_id, kind, path, description, created FROM artifacts WHERE run_id IN `+in+` ORDER BY id`, args...)
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
		a.Created, a.Path = msTime(created), s.artifactPath(a.Path)
		if r := byID[id]; r != nil {
			r.Artifacts = append(r.Artifacts, a)
		}
	}
	rows.Close()
	return rows.Err()
}

// loadLatest reads latest_metrics rows (query) into the records.
func loadLatest(db sqlRunner, query string, args []any, byID map[string]*RunRecord) error {
	rows, err := db.query(query, args...)
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
	return rows.Err()
}
