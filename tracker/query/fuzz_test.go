package query_test

import (
	"errors"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// checkError fails unless err is a *query.Error with a column inside q (or just past it).
func checkError(t *testing.T, q string, err error) {
	t.Helper()
	var qe *query.Error
	if !errors.As(err, &qe) {
		t.Fatalf("%q: error %v is not a *query.Error", q, err)
	}
	if qe.Column < 1 || qe.Column > max(utf8.RuneCountInString(q)+1, query.MaxLength+1) {
		t.Fatalf("%q: column %d outside the query: %v", q, qe.Column, err)
	}
}

// fuzzStore is a SQLite store of three runs with params, tags and metrics, for the
// queries to run on.
func fuzzStore(tb testing.TB) *tracker.Store {
	s, err := tracker.Open(filepath.Join(tb.TempDir(), "aelab.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	for i, model := range []string{"deep", "vanilla", `x"; drop table runs; --`} {
		r, err := s.StartRun(tracker.RunSpec{Experiment: "e", Name: model, Params: map[string]string{"model": model, "epochs": "10"},
			Tags: map[string]string{"note": model + " note"}})
		if err != nil {
			tb.Fatal(err)
		}
		if err := r.LogMetrics(map[string]float64{"val_mse": 0.01 * float64(i+1)}, 1, 1); err != nil {
			tb.Fatal(err)
		}
		if err := r.Finish(tracker.StatusFinished, ""); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// FuzzParseFilter: any text either parses, prints back to a filter that parses to
// the same thing, and runs on a real store; or fails with a positioned *query.Error.
// Never a panic, a stack overflow or an SQL error. The seed corpus is in
// testdata/fuzz/FuzzParseFilter.
func FuzzParseFilter(f *testing.F) {
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, q string) {
		e, _, err := query.ParseFilter(q)
		if err != nil {
			checkError(t, q, err)
			return
		}
		if e != nil {
			again, _, err := query.ParseFilter(e.String())
			if err != nil || again.String() != e.String() {
				t.Fatalf("%q printed as %q, which parses to %v, %v", q, e.String(), again, err)
			}
		}
		if _, err := s.SearchRuns(tracker.Search{Filter: q}); err != nil {
			checkError(t, q, err)
		}
	})
}

// FuzzParseOrderBy: any text orders a real store's runs or fails with a positioned *query.Error.
func FuzzParseOrderBy(f *testing.F) {
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := query.ParseOrderBy(q); err != nil {
			checkError(t, q, err)
			return
		}
		if _, err := s.SearchRuns(tracker.Search{OrderBy: q}); err != nil {
			t.Fatalf("%q parses but does not run: %v", q, err)
		}
	})
}
