package main

import (
	"errors"

	"github.com/aelab/aelab/tracker"
)

// openReadOnly opens the store for a command that only reads runs: it never
// creates, migrates or writes anything there. No store at the path, or another
// program's database, is a bad --db: a usage error.
func openReadOnly(path string) (*tracker.Store, error) {
	s, err := tracker.OpenReadOnly(path)
	if errors.Is(err, tracker.ErrNoStore) || errors.Is(err, tracker.ErrNotStore) {
		return nil, usageError{err}
	}
	return s, err
}
