package tracker

import (
	"database/sql"
	"fmt"
)

// Series is one metric's history as parallel slices, in step order: what a chart reads.
type Series struct {
	Steps  []int64
	Epochs []int
	Values []float64 // NaN where the logged value was NaN
}

// Len is the number of values.
func (s *Series) Len() int { return len(s.Steps) }

// MetricSeries reads every value of one metric of a run (full id) in step order (values of
// one step in the order logged). It reads only what a curve needs, in the order of the
// metrics index, so long histories (100,000 steps) come back fast; MetricHistory gives the
// timestamps too.
func (s *Store) MetricSeries(runID, key string) (*Series, error) {
	rows, err := s.reader().query(`SELECT step, epoch, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, `+s.d.rowOrder, runID, key)
	if err != nil {
		return nil, fmt.Errorf("tracker: series %s of %s: %w", key, short(runID), err)
	}
	defer rows.Close()
	out := &Series{}
	for rows.Next() {
		var step int64
		var epoch int
		var v sql.NullFloat64
		if err := rows.Scan(&step, &epoch, &v); err != nil {
			return nil, fmt.Errorf("tracker: series %s of %s: %w", key, short(runID), err)
		}
		out.Steps = append(out.Steps, step)
		out.Epochs = append(out.Epochs, epoch)
		out.Values = append(out.Values, nullNaN(v))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tracker: series %s of %s: %w", key, short(runID), err)
	}
	return out, nil
}
