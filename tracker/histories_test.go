package tracker

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/aelab/aelab/tracker/query"
)

// EachRun hands out, in the search's order, the records SearchRuns returns and the histories
// MetricHistories returns, read in batches by two readers (batches of 2 here): a step logged
// twice keeps its order, a lower step logged later sorts before, NaN stays NaN, runs
// without metrics have an empty history; an error of fn stops it; a bad query is a query.Error.
func TestEachRun(t *testing.T) {
	defer func(n int) { eachRunBatch = n }(eachRunBatch)
	eachRunBatch = 2
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		for i := range 7 {
			r := mustStart(t, s, RunSpec{Experiment: []string{"a", "b"}[i%2], Name: string(rune('a' + i)),
				Params: map[string]string{"i": string(rune('0' + i))}, Tags: map[string]string{"t": "x"}})
			for step := int64(1); step <= int64(i); step++ {
				m := map[string]float64{"val_bce": 1 / float64(step+int64(i)), "z": float64(i)}
				if i%3 == 0 {
					m["nan"] = math.NaN()
				}
				if err := r.LogMetrics(m, step*10, int(step)); err != nil {
					t.Fatal(err)
				}
			}
			if i >= 2 {
				r.LogMetric("val_bce", -1, 20, 2) // step 20 again
				r.LogMetric("val_bce", -2, 5, 1)  // a lower step, logged last
			}
			r.Finish(StatusFinished, "")
			if i == 4 {
				if err := s.DeleteRun(r.ID()); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, q := range []Search{{}, {IncludeDeleted: true}, {OrderBy: "metrics.val_bce asc"}, {Filter: "params.i >= 3", Limit: 3},
			{Experiment: "b"}, {Filter: "params.i = 'none'"}, {IncludeDeleted: true, Columns: []query.Field{{Kind: query.FieldParam}, {Kind: query.FieldTag}}}} {
			want, err := s.SearchRuns(q)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = s.EachRun(q, func(r *RunRecord, h *History) error {
				if n >= len(want) {
					t.Fatalf("%+v: more runs than SearchRuns", q)
				}
				if got, want := jsonOf(t, r), jsonOf(t, want[n]); got != want {
					t.Errorf("%+v: run %d:\n got %s\nwant %s", q, n, got, want)
				}
				hist, err := s.MetricHistories(r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := jsonOf(t, h.Map()), jsonOf(t, hist); got != want {
					t.Errorf("%+v: history of %s:\n got %s\nwant %s", q, r.Name, got, want)
				}
				for i := range h.Keys {
					if got, want := jsonOf(t, h.Latest(i)), jsonOf(t, want[n].LatestMetrics[h.Keys[i]]); q.Columns == nil && got != want {
						t.Errorf("%s: latest %s %s, the store's %s", r.Name, h.Keys[i], got, want)
					}
				}
				if len(h.Start) != len(h.Keys)+1 || h.Start[len(h.Keys)] != len(h.Steps) {
					t.Errorf("%s: %d keys, starts %v, %d points", r.Name, len(h.Keys), h.Start, len(h.Steps))
				}
				n++
				return nil
			})
			if err != nil || n != len(want) {
				t.Errorf("%+v: %d runs of %d, %v", q, n, len(want), err)
			}
		}
		stop := errors.New("stop")
		n := 0
		if err := s.EachRun(Search{}, func(*RunRecord, *History) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("fn's error: %v after %d runs", err, n)
		}
		var qe *query.Error
		if err := s.EachRun(Search{Filter: "metrics.x <"}, func(*RunRecord, *History) error { return nil }); !errors.As(err, &qe) {
			t.Errorf("bad filter: %v", err)
		}
	})
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
