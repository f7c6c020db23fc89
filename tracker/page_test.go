package tracker

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/aelab/aelab/tracker/query"
)

// pageStore holds n finished runs: run-i has params model (vanilla, deep, … in turn) and i,
// tag batch = i%3, metrics loss = i (runs with i%5 = 0 lack it) and acc = -i, logged at two steps.
func pageStore(t *testing.T, b backend, n int) *Store {
	t.Helper()
	s := b.store(t)
	models := []string{"vanilla", "deep", "denoise"}
	for i := range n {
		r := mustStart(t, s, RunSpec{Experiment: "page", Name: fmt.Sprintf("run-%02d", i),
			Params: map[string]string{"model": models[i%3], "i": strconv.Itoa(i)},
			Tags:   map[string]string{"batch": strconv.Itoa(i % 3)}})
		for step := int64(1); step <= 2; step++ {
			m := map[string]float64{"acc": -float64(i) * float64(step)}
			if i%5 != 0 {
				m["loss"] = float64(i) * float64(step)
			}
			if err := r.LogMetrics(m, step, int(step)); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Finish(StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func rowNames(p *Page) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.Name)
	}
	return out
}

func TestSearchPagePagesCountsAndSorts(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := pageStore(t, b, 23)
		loss, _ := query.ParseField("metrics.loss")
		model, _ := query.ParseField("params.model")
		q := PageQuery{Search: Search{Filter: `params.model in ("vanilla", "deep")`, OrderBy: "metrics.loss desc", Limit: 5},
			Columns: []query.Field{loss, model}}
		var all []string
		for off := 0; ; off += 5 {
			q.Offset = off
			p, err := s.SearchPage(q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 16 { // i%3 != 2 among 0..22
				t.Fatalf("total %d, want 16", p.Total)
			}
			if len(p.Rows) == 0 {
				break
			}
			if len(p.Rows) > 5 {
				t.Fatalf("page of %d rows, limit 5", len(p.Rows))
			}
			all = append(all, rowNames(p)...)
		}
		// Same runs, same order as SearchRuns; runs without a loss last.
		recs, err := s.SearchRuns(q.Search.withLimit(0))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range recs {
			want = append(want, r.Name)
		}
		if !slices.Equal(all, want) {
			t.Fatalf("pages give %v\nSearchRuns gives %v", all, want)
		}
		if all[0] != "run-22" || all[len(all)-1] != "run-00" {
			t.Errorf("order by loss desc: first %s, last %s; want run-22 first and a run without loss last", all[0], all[len(all)-1])
		}
		// Only the asked columns are loaded, latest values.
		q.Offset = 0
		p, _ := s.SearchPage(q)
		r := p.Rows[0]
		if r.Metrics["loss"].Value != 44 || r.Metrics["loss"].Step != 2 || r.Params["model"] != "deep" {
			t.Errorf("row %s: loss %+v model %q, want 44 at step 2, deep", r.Name, r.Metrics["loss"], r.Params["model"])
		}
		if _, ok := r.Metrics["acc"]; ok || len(r.Tags) != 0 || len(r.Params) != 1 {
			t.Errorf("row loaded columns it was not asked for: %+v", r)
		}
		if r.Status != StatusFinished || r.StartTime.IsZero() || r.Experiment != "page" {
			t.Errorf("attributes: %+v", r)
		}
	})
}

func (q Search) withLimit(n int) Search { q.Limit = n; return q }

func TestSearchPageEdges(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := pageStore(t, b, 4)
		p, err := s.SearchPage(PageQuery{Offset: 3})
		if err != nil || p.Total != 4 || len(p.Rows) != 1 {
			t.Fatalf("offset without limit: %v, %+v", err, p)
		}
		p, err = s.SearchPage(PageQuery{Search: Search{Filter: "metrics.loss > 1000", Limit: 10}})
		if err != nil || p.Total != 0 || p.Rows == nil || len(p.Rows) != 0 {
			t.Fatalf("no match: %v, %+v (want an empty, non-nil page)", err, p)
		}
		_, err = s.SearchPage(PageQuery{Search: Search{Filter: "metrics.loss <"}})
		var qe *query.Error
		if !errors.As(err, &qe) || qe.Column != 15 {
			t.Fatalf("bad filter: %v, want a query.Error at column 15 (the end)", err)
		}
		if _, err := s.SearchPage(PageQuery{Offset: -1}); err == nil {
			t.Error("negative offset accepted")
		}
		if err := s.DeleteRun(p0(t, s).ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.SearchPage(PageQuery{}); p.Total != 3 {
			t.Errorf("after a delete: total %d, want 3", p.Total)
		}
		if p, _ := s.SearchPage(PageQuery{Search: Search{IncludeDeleted: true}}); p.Total != 4 || !slices.ContainsFunc(p.Rows, func(r RunRow) bool { return r.Deleted }) {
			t.Errorf("IncludeDeleted: %+v", p)
		}
	})
}

func p0(t *testing.T, s *Store) RunRow {
	p, err := s.SearchPage(PageQuery{Search: Search{Limit: 1}})
	if err != nil || len(p.Rows) != 1 {
		t.Fatal(err)
	}
	return p.Rows[0]
}

func TestParseField(t *testing.T) {
	for in, want := range map[string]string{
		"metrics.val_bce": "metrics.val_bce", "param.model": "params.model", "status": "attributes.status",
		"tags.`a b`": "tags.`a b`", "params.env.go_version": "params.env.go_version",
	} {
		f, err := query.ParseField(in)
		if err != nil || f.String() != want {
			t.Errorf("query.ParseField(%q) = %v, %v; want %s", in, f, err, want)
		}
	}
	for _, in := range []string{"", "metrics", "x.y", "metrics.a b", "(", "metrics.a = 1"} {
		if _, err := query.ParseField(in); err == nil {
			t.Errorf("query.ParseField(%q) accepted", in)
		}
	}
}

func TestKeysHistoryKeysAndDeleteTag(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := pageStore(t, b, 3)
		ks, err := s.Keys()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ks.Params, []string{"i", "model"}) || !slices.Equal(ks.Metrics, []string{"acc", "loss"}) || !slices.Equal(ks.Tags, []string{"batch"}) {
			t.Errorf("keys %+v", ks)
		}
		r := p0(t, s)
		h, err := s.HistoryKeys(r.ID)
		if err != nil || len(h) != 2 || h[0] != (HistoryLen{"acc", 2}) {
			t.Errorf("history keys %+v, %v", h, err)
		}
		if err := s.DeleteTag(r.ID, "batch"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTag(r.ID, "batch"); err != nil {
			t.Errorf("deleting a missing tag: %v", err)
		}
		rec, _ := s.GetRun(r.ID)
		if _, ok := rec.Tags["batch"]; ok {
			t.Errorf("tag still there: %v", rec.Tags)
		}
	})
}

func TestVersionChangesWithTheRuns(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		version := func(ids ...string) string {
			t.Helper()
			v, err := s.Version(ids...)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		empty := version()
		r := mustStart(t, s, RunSpec{Name: "live"})
		other := mustStart(t, s, RunSpec{Name: "other"})
		all, one := version(), version(r.ID())
		if all == empty {
			t.Error("store version unchanged by a new run")
		}
		if version() != all || version(r.ID()) != one {
			t.Error("version changed with nothing written")
		}
		step := func(what string, change func()) {
			t.Helper()
			change()
			if v := version(r.ID()); v == one {
				t.Errorf("run version unchanged by %s", what)
			} else {
				one = v
			}
			if v := version(); v == all {
				t.Errorf("store version unchanged by %s", what)
			} else {
				all = v
			}
		}
		step("a metric", func() { r.LogMetric("loss", 1, 1, 1) })
		step("a tag", func() { s.SetTag(r.ID(), "k", "v") })
		step("a tag's longer value", func() { s.SetTag(r.ID(), "k", "vw") })
		step("a tag's value of the same length", func() { s.SetTag(r.ID(), "k", "xy") })
		step("a tag removed", func() { s.DeleteTag(r.ID(), "k") })
		step("a param", func() { r.LogParams(map[string]string{"lr": "0.001"}) })
		step("a param's value of the same length", func() { r.LogParams(map[string]string{"lr": "0.002"}) })
		step("finishing", func() { r.Finish(StatusFinished, "") })
		step("a metric after the end", func() { r.LogMetric("loss", 0.5, 1, 1) })
		step("a delete", func() { s.DeleteRun(r.ID()) })
		step("a restore", func() { s.UndeleteRun(r.ID()) })
		before := version(r.ID())
		other.LogMetric("loss", 2, 1, 1)
		if version(r.ID()) != before {
			t.Error("run version changed by another run's metric")
		}
		other.Finish(StatusFinished, "")
	})
}

func TestMetricSeriesMatchesHistory(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		s := b.store(t)
		r := mustStart(t, s, RunSpec{Name: "series"})
		for _, p := range []struct {
			step  int64
			epoch int
			v     float64
		}{{3, 1, 0.3}, {1, 1, 0.1}, {2, 1, math.NaN()}, {3, 2, 0.35}, {4, 2, 0.4}} {
			if err := r.LogMetric("loss", p.v, p.step, p.epoch); err != nil {
				t.Fatal(err)
			}
		}
		r.LogMetric("other", 9, 1, 1)
		ser, err := s.MetricSeries(r.ID(), "loss")
		if err != nil {
			t.Fatal(err)
		}
		hist, _ := s.MetricHistory(r.ID(), "loss")
		if ser.Len() != len(hist) || ser.Len() != 5 {
			t.Fatalf("series of %d values, history of %d, want 5", ser.Len(), len(hist))
		}
		for i, p := range hist {
			same := ser.Values[i] == p.Value || math.IsNaN(ser.Values[i]) && math.IsNaN(p.Value)
			if ser.Steps[i] != p.Step || ser.Epochs[i] != p.Epoch || !same {
				t.Errorf("value %d: series (%d, %d, %v), history %+v", i, ser.Steps[i], ser.Epochs[i], ser.Values[i], p)
			}
		}
		if !slices.Equal(ser.Steps, []int64{1, 2, 3, 3, 4}) || !math.IsNaN(ser.Values[1]) || ser.Values[2] != 0.3 || ser.Values[3] != 0.35 {
			t.Errorf("series %+v: want steps in order, the NaN kept, values of one step in logging order", ser)
		}
		r.Finish(StatusFinished, "")
	})
}
