package tracker

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxRunNameBytes is the longest name RenameRun accepts.
const MaxRunNameBytes = 250

// RenameRun gives a run (id or unique prefix) a new name: text of at most MaxRunNameBytes
// bytes, not empty once trimmed, valid UTF-8 without NUL (PostgreSQL refuses NUL).
func (s *Store) RenameRun(runID, name string) error {
	id, err := s.ResolveRunID(runID)
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return fmt.Errorf("tracker: run %s: rename: the name is empty", short(id))
	case len(name) > MaxRunNameBytes:
		return fmt.Errorf("tracker: run %s: rename: the name is %d bytes, at most %d", short(id), len(name), MaxRunNameBytes)
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		return fmt.Errorf("tracker: run %s: rename: the name is not valid text", short(id))
	}
	if _, err := s.exec(`UPDATE runs SET name = ? WHERE id = ?`, name, id); err != nil {
		return fmt.Errorf("tracker: run %s: rename: %w", short(id), err)
	}
	return nil
}
