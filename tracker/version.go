package tracker

import (
	"fmt"
	"hash/fnv"
	"strconv"
)

// Version is a short opaque value that changes when what a reader shows of the runs changes:
// with no ids, the list of runs (runs added, ended, deleted, restored or renamed, tags added
// or removed or changed in length, the latest metrics of running runs, heartbeats); with ids
// (full), everything about those runs (status, name, tags, metric values, artifacts). A live view polls it and reloads when it differs, whichever
// process or machine wrote the change. Runs found dead are marked LOST first, as by SearchRuns.
func (s *Store) Version(runIDs ...string) (string, error) {
	s.reapLost()
	h := fnv.New64a()
	write := func(query string, args ...any) error {
		rows, err := s.reader().query(query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for _, v := range vals {
				fmt.Fprint(h, v, "\x00")
			}
			h.Write([]byte{'\n'})
		}
		return rows.Err()
	}
	var err error
	if len(runIDs) == 0 {
		err = write(`SELECT count(*), max(start_time), sum(COALESCE(end_time, 0)), sum(deleted), max(heartbeat),
			sum(CASE WHEN status = 'RUNNING' THEN 1 ELSE 0 END), sum(length(name)) FROM runs`)
		if err == nil {
			err = write(`SELECT count(*), sum(length(key) + length(value)) FROM tags`)
		}
		if err == nil {
			err = write(`SELECT max(lm.timestamp), count(*) FROM latest_metrics lm JOIN runs r ON r.id = lm.run_id
				WHERE r.status = 'RUNNING'`)
		}
	} else {
		args := make([]any, len(runIDs))
		for i, id := range runIDs {
			args[i] = id
		}
		in := placeholders(len(args))
		for _, q := range []string{
			`SELECT id, status, COALESCE(end_time, 0), deleted, name, error FROM runs WHERE id IN ` + in + ` ORDER BY id`,
			`SELECT run_id, count(*), max(step), max(timestamp) FROM metrics WHERE run_id IN ` + in + ` GROUP BY run_id ORDER BY run_id`,
			`SELECT run_id, key, value FROM tags WHERE run_id IN ` + in + ` ORDER BY run_id, key`,
			`SELECT run_id, count(*) FROM artifacts WHERE run_id IN ` + in + ` GROUP BY run_id ORDER BY run_id`,
		} {
			if err = write(q, args...); err != nil {
				break
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("tracker: version: %w", err)
	}
	return strconv.FormatUint(h.Sum64(), 36), nil
}
