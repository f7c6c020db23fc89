package tracker

import (
	"fmt"
)

// DeleteRun hides a run (id or unique prefix) from searches; its data stays
// (Search.IncludeDeleted shows it, UndeleteRun brings it back).
func (s *Store) DeleteRun(runID string) error { return s.setDeleted(runID, true) }

// UndeleteRun brings back a run removed with DeleteRun.
func (s *Store) UndeleteRun(runID string) error { return s.setDeleted(runID, false) }

func (s *Store) setDeleted(runID string, deleted bool) error {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return err
	}
	flag := 0 // an integer column on both databases
	if deleted {
		flag = 1
	}
	if _, err := s.exec(`UPDATE runs SET deleted = ? WHERE id = ?`, flag, id); err != nil {
		return fmt.Errorf("tracker: run %s: delete: %w", short(id), err)
	}
	return nil
}
