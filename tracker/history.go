package tracker

import (
	"database/sql"
	"fmt"
	"math"
)

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
	where, args := `run_id = ?`, []any{id}
	if key != nil {
		where, args = where+` AND key = ?`, append(args, *key)
	}
	out := map[string][]MetricPoint{}
	err = s.readHistories(where, args, func(_, k string, p MetricPoint) { out[k] = append(out[k], p) })
	if err != nil {
		return nil, fmt.Errorf("tracker: metric history of %s: %w", short(id), err)
	}
	return out, nil
}

// readHistories calls each for every metric value the condition where selects,
// by run, key and step, values of one step in the order logged.
func (s *Store) readHistories(where string, args []any, each func(runID, key string, p MetricPoint)) error {
	rows, err := s.reader().query(`SELECT run_id, key, step, epoch, value, timestamp FROM metrics WHERE `+where+
		` ORDER BY run_id, key, step, `+s.d.rowOrder, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, k string
		var p MetricPoint
		var v sql.NullFloat64
		var ts sql.NullInt64
		if err := rows.Scan(&id, &k, &p.Step, &p.Epoch, &v, &ts); err != nil {
			return err
		}
		p.Value, p.Time = nullNaN(v), msTime(ts)
		each(id, k, p)
	}
	return rows.Err()
}

func nullNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}
