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
	q := `SELECT key, step, epoch, value, timestamp FROM metrics WHERE run_id = ?`
	args := []any{id}
	if key != nil {
		q += ` AND key = ?`
		args = append(args, *key)
	}
	q += ` ORDER BY key, step, timestamp, ` + s.d.rowOrder
	rows, err := s.reader().query(q, args...)
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
