package tracker

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// checkQueryError fails unless err is a *QueryError with a column inside q (or just past it).
func checkQueryError(t *testing.T, q string, err error) {
	t.Helper()
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("%q: error %v is not a *QueryError", q, err)
	}
	if qe.Column < 1 || qe.Column > max(utf8.RuneCountInString(q)+1, MaxQueryLength+1) {
		t.Fatalf("%q: column %d outside the query: %v", q, qe.Column, err)
	}
}

// FuzzParseFilter: any text either parses, prints back to a filter that parses to
// the same thing, and runs on a real store; or fails with a positioned *QueryError.
// Never a panic, a stack overflow or an SQL error. The seed corpus is in
// testdata/fuzz/FuzzParseFilter.
func FuzzParseFilter(f *testing.F) {
	s, _ := searchStore(f, sqliteBackend)
	f.Fuzz(func(t *testing.T, q string) {
		e, _, err := ParseFilter(q)
		if err != nil {
			checkQueryError(t, q, err)
			return
		}
		if e != nil {
			again, _, err := ParseFilter(e.String())
			if err != nil || again.String() != e.String() {
				t.Fatalf("%q printed as %q, which parses to %v, %v", q, e.String(), again, err)
			}
		}
		if _, err := s.SearchRuns(Search{Filter: q}); err != nil {
			checkQueryError(t, q, err)
		}
	})
}

// FuzzParseOrderBy: any text orders a real store's runs or fails with a positioned *QueryError.
func FuzzParseOrderBy(f *testing.F) {
	s, _ := searchStore(f, sqliteBackend)
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := ParseOrderBy(q); err != nil {
			checkQueryError(t, q, err)
			return
		}
		if _, err := s.SearchRuns(Search{OrderBy: q}); err != nil {
			t.Fatalf("%q parses but does not run: %v", q, err)
		}
	})
}
