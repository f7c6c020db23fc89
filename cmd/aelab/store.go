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
// creates, migrates or writes anything there.
func openReadOnly(a storeArg) (*tracker.Store, error) {
	o := a.options()
	o.ReadOnly = true
	return storeOrUsage(tracker.OpenWith(a.location, o))
}

// openExisting opens the store for a command that changes what is already
// there (tags, deletes, a worker's trials): it never creates a store.
func openExisting(a storeArg) (*tracker.Store, error) {
	o := a.options()
	o.MustExist = true
	return storeOrUsage(tracker.OpenWith(a.location, o))
}

// openStore opens the store for a command that records new runs, creating it
// at a new path.
func openStore(a storeArg) (*tracker.Store, error) {
	return storeOrUsage(tracker.OpenWith(a.location, a.options()))
}

// storeOrUsage makes a bad --db a usage error: no store where one must be,
// another program's database, or a store of a newer aelab.
func storeOrUsage(s *tracker.Store, err error) (*tracker.Store, error) {
	if errors.Is(err, tracker.ErrNoStore) || errors.Is(err, tracker.ErrNotStore) || errors.Is(err, tracker.ErrNewerSchema) {
		return nil, usageError{err}
	}
	return s, err
}
