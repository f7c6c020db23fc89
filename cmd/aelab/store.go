package main

import (
	"errors"

	"github.com/aelab/aelab/tracker"
)

// locationValue is a store location flag that shows itself without a password.
type locationValue struct{ p *string }

func (v locationValue) String() string {
	if v.p == nil {
		return ""
	}
	return tracker.RedactURL(*v.p)
}

func (v locationValue) Set(s string) error { *v.p = s; return nil }

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
