package tracker

import "fmt"

// SetTag sets (or overwrites) a tag of a run (id or unique prefix).
func (s *Store) SetTag(runID, key, value string) error {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("tracker: run %s: set tag: empty key", short(id))
	}
	if err := s.writeTx(func(tx sqlRunner) error { return s.upsertKV(tx, "tags", id, map[string]string{key: value}) }); err != nil {
		return fmt.Errorf("tracker: run %s: set tag %s: %w", short(id), key, err)
	}
	return nil
}

// DeleteTag removes a tag from a run (id or unique prefix). Removing a tag the run does not
// have is not an error.
func (s *Store) DeleteTag(runID, key string) error {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return err
	}
	if _, err := s.exec(`DELETE FROM tags WHERE run_id = ? AND key = ?`, id, key); err != nil {
		return fmt.Errorf("tracker: run %s: delete tag %s: %w", short(id), key, err)
	}
	return nil
}
