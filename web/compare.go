package web

import (
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"

	"github.com/aelab/aelab/tracker"
)

// compareRow is one param or tag across the compared runs.
type compareRow struct {
	Key     string
	Values  []string // "–" where a run lacks it
	Differs bool
}

// compareMetric is one metric across the compared runs, its best value marked.
type compareMetric struct {
	Key   string
	Title string
	Unit  string
	Cells []compareCell
}

type compareCell struct {
	Text string
	Best bool
}

type compareView struct {
	Runs      []*tracker.RunRecord
	Params    []compareRow
	Tags      []compareRow
	Metrics   []compareMetric
	Chart     *chartView
	ChartsURL string // these runs on the charts page
	ReportURL string // and in a report
}

func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) {
	recs, err := s.requestedRuns(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	v := &compareView{Runs: recs}
	if len(recs) < 2 {
		s.page(w, r, "compare", "Compare", v)
		return
	}
	ids := url.Values{}
	for _, rec := range recs {
		ids.Add("run", rec.ID)
	}
	v.ChartsURL, v.ReportURL = "/charts?"+ids.Encode(), "/report?"+ids.Encode()
	v.Params = compareStrings(recs, func(r *tracker.RunRecord) map[string]string { return r.Params })
	v.Tags = compareStrings(recs, func(r *tracker.RunRecord) map[string]string { return r.Tags })
	v.Metrics = compareMetrics(recs)
	if v.Chart, err = s.newChartView(recs, r.URL.Query().Get("key")); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.page(w, r, "compare", "Compare", v)
}

// compareStrings lines up one map of every run (params or tags) by key, marking the keys
// whose values differ (a run without the key differs from one with it).
func compareStrings(recs []*tracker.RunRecord, of func(*tracker.RunRecord) map[string]string) []compareRow {
	keys := map[string]bool{}
	for _, r := range recs {
		for k := range of(r) {
			keys[k] = true
		}
	}
	var rows []compareRow
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		row := compareRow{Key: k}
		for i, r := range recs {
			v, ok := of(r)[k]
			if !ok {
				v = "–"
			}
			row.Values = append(row.Values, v)
			if i > 0 && v != row.Values[0] {
				row.Differs = true
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// compareMetrics lines up the runs' latest metric values, in the schema's order (metrics it
// does not know after, by name), marking the best where the schema says which way is better.
func compareMetrics(recs []*tracker.RunRecord) []compareMetric {
	keys := map[string]bool{}
	for _, r := range recs {
		for k := range r.Metrics {
			keys[k] = true
		}
	}
	sorted := sortMetrics(slices.Collect(maps.Keys(keys)))
	out := make([]compareMetric, 0, len(sorted))
	for _, k := range sorted {
		info := metricMeta(k)
		m := compareMetric{Key: k, Title: info.Title, Unit: info.Unit}
		best, have := math.NaN(), 0
		for _, r := range recs {
			v, ok := r.Metrics[k]
			if !ok {
				m.Cells = append(m.Cells, compareCell{Text: "–"})
				continue
			}
			m.Cells = append(m.Cells, compareCell{Text: info.Format(v)})
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			have++
			if info.better(v, best) {
				best = v
			}
		}
		if info.Better != 0 && have > 1 {
			for i, r := range recs {
				if v, ok := r.Metrics[k]; ok && v == best {
					m.Cells[i].Best = true
				}
			}
		}
		out = append(out, m)
	}
	return out
}
