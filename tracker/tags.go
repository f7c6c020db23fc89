package tracker

import "fmt"

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
