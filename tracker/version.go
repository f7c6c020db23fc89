package tracker

import (
	"fmt"
	"hash/fnv"
	"strconv"
)

// Version is a short opaque value that changes when what a reader shows of the runs changes:
// with no ids, the list of runs (runs added or removed, and any change of a run's name,
// status, deletion, tags, params or latest metrics: their revisions, migration 6; heartbeats);
// with ids, everything about those runs (their revisions, metric histories, artifacts). A live
// view polls it and reloads when it differs, whichever process or machine wrote the change.
// Runs found dead are marked LOST first, as by SearchRuns.
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
		err = write(`SELECT count(*), max(start_time), sum(revision), max(heartbeat) FROM runs`)
	} else {
		args := make([]any, len(runIDs))
		for i, id := range runIDs {
			args[i] = id
		}
		in := placeholders(len(args))
		for _, q := range []string{
			`SELECT id, revision, status, COALESCE(end_time, 0), deleted, name, error FROM runs WHERE id IN ` + in + ` ORDER BY id`,
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
