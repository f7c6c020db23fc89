package web

// The parallel-coordinates page: the runs a query selects (or the runs named by ?run=), one
// vertical axis per chosen param or metric, one line per run; brushing an axis narrows the
// table of runs under it. The page's script draws it as SVG from /api/parallel.

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// Limits of the parallel-coordinates view.
const (
	maxParallelRuns = 2000 // lines drawn; a query selecting more shows its first runs
	maxParallelAxes = 12
	defaultAxes     = 6
)

// parallelQuery is what the page shows, read from its URL.
type parallelQuery struct {
	Q     string   // filter in the tracker's query language, when no runs are named
	Runs  []string // ?run= ids, when given
	Axes  []string // fields: params.KEY, tags.KEY or metrics.KEY
	Color string   // a metric field the lines are coloured by; "" for the charts' first metric or the first metric axis
}

// parallelAxis is one axis: numeric (min…max) or categorical (its values, in order).
type parallelAxis struct {
	Field   string   `json:"field"`
	Title   string   `json:"title"`
	Numeric bool     `json:"numeric"`
	Min     float64  `json:"min"`
	Max     float64  `json:"max"`
	Values  []string `json:"values,omitempty"` // a categorical axis's values, bottom to top
	Better  int      `json:"better,omitempty"` // a metric's: -1 lower is better, +1 higher
}

// parallelRun is one line: a run's value on each axis (a number, or for a categorical axis
// the index of its value); null where the run lacks it.
type parallelRun struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Status string     `json:"status"`
	Values []*float64 `json:"values"`
	Text   []string   `json:"text"` // the values as the table shows them
}

// parallelJSON is the answer of /api/parallel.
type parallelJSON struct {
	Axes  []parallelAxis `json:"axes"`
	Color int            `json:"color"` // index of the axis that colours the lines; -1 for none
	Runs  []parallelRun  `json:"runs"`
	More  bool           `json:"more"` // the query selects more runs than Runs
}

// parallelView is the page's data.
type parallelView struct {
	Query   parallelQuery
	Choices []axisChoice // every field of the runs, to pick axes from
	Runs    string       // the ?run= ids, space-separated
	Error   string
}

// axisChoice is a field offered as an axis.
type axisChoice struct {
	Field   string
	Title   string // a metric's title from the schema; the field otherwise
	Checked bool   // shown
	Metric  bool   // can colour the lines
	Colour  bool   // colours them
}

func parseParallelQuery(v url.Values) (parallelQuery, error) {
	q := parallelQuery{Q: strings.TrimSpace(v.Get("q")), Color: strings.TrimSpace(v.Get("color"))}
	for _, r := range v["run"] {
		for _, id := range strings.Split(r, ",") {
			if id = strings.TrimSpace(id); id != "" {
				q.Runs = append(q.Runs, id)
			}
		}
	}
	for _, a := range v["axis"] {
		for _, f := range strings.Split(a, ",") {
			if f = strings.TrimSpace(f); f == "" || slices.Contains(q.Axes, f) {
				continue
			}
			field, err := query.ParseField(f)
			if err != nil || field.Kind == query.FieldAttribute {
				return q, fmt.Errorf("axis=%q: an axis is a param, tag or metric, e.g. axis=params.model", clip(f, 60))
			}
			q.Axes = append(q.Axes, field.String())
		}
	}
	if len(q.Axes) > maxParallelAxes {
		return q, fmt.Errorf("%d axes asked for; at most %d", len(q.Axes), maxParallelAxes)
	}
	if q.Color != "" {
		if f, err := query.ParseField(q.Color); err != nil || f.Kind != query.FieldMetric {
			return q, fmt.Errorf("color=%q: colour by a metric, e.g. color=metrics.val_bce", clip(q.Color, 60))
		}
	}
	return q, nil
}

// parallelSample is how many of the runs the default axes are chosen from.
const parallelSample = 200

// parallelAxes returns the query's axes, or when it names none, defaults chosen from the
// first parallelSample runs it selects.
func (s *Server) parallelAxes(q parallelQuery) ([]string, error) {
	if len(q.Axes) > 0 {
		return q.Axes, nil
	}
	var sample []*tracker.RunRecord
	var err error
	if len(q.Runs) > 0 {
		sample, err = s.requestedRunsUpTo(url.Values{"run": q.Runs[:min(len(q.Runs), parallelSample)]}, parallelSample)
	} else {
		sample, err = s.store.SearchRuns(tracker.Search{Filter: q.Q, Limit: parallelSample})
	}
	if err != nil || len(sample) == 0 {
		return nil, err
	}
	return defaultParallelAxes(sample, parallelFields(sample)), nil
}

// parallelRuns loads the runs the query names or selects, at most maxParallelRuns, with only
// the params, metrics and tags on the axes; more says the query selects more.
func (s *Server) parallelRuns(q parallelQuery, axes []string) (recs []*tracker.RunRecord, more bool, err error) {
	if len(q.Runs) > 0 {
		recs, err := s.requestedRunsUpTo(url.Values{"run": q.Runs}, maxParallelRuns)
		return recs, false, err
	}
	cols := make([]query.Field, 0, len(axes))
	for _, a := range axes {
		f, _ := query.ParseField(a) // checked by parseParallelQuery or chosen from the runs
		cols = append(cols, f)
	}
	recs, err = s.store.SearchRuns(tracker.Search{Filter: q.Q, Limit: maxParallelRuns + 1, Columns: cols})
	if err != nil {
		return nil, false, err
	}
	return recs[:min(len(recs), maxParallelRuns)], len(recs) > maxParallelRuns, nil
}

// fieldValue is a run's value of a field, as text, and whether it has one.
func fieldValue(r *tracker.RunRecord, f query.Field) (string, float64, bool) {
	switch f.Kind {
	case query.FieldMetric:
		v, ok := r.Metrics[f.Key]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			return "", 0, false
		}
		return metricMeta(f.Key).Format(v), v, true
	case query.FieldParam:
		v, ok := r.Params[f.Key]
		return v, 0, ok
	default:
		v, ok := r.Tags[f.Key]
		return v, 0, ok
	}
}

// keySetFields lists the store's params, metrics and tags as fields (params first, metrics
// in the schema's order): the axes to choose from.
func keySetFields(ks *tracker.KeySet) []string {
	var out []string
	for _, k := range ks.Params {
		out = append(out, "params."+k)
	}
	for _, k := range sortMetrics(slices.Clone(ks.Metrics)) {
		out = append(out, "metrics."+k)
	}
	for _, k := range ks.Tags {
		out = append(out, "tags."+k)
	}
	return out
}

// parallelFields lists every param, metric and tag of the runs, in keySetFields' order.
func parallelFields(recs []*tracker.RunRecord) []string {
	ks := tracker.RecordKeys(recs)
	var out []string
	for _, k := range ks.Params {
		out = append(out, "params."+k)
	}
	for _, k := range sortMetrics(ks.Metrics) {
		out = append(out, "metrics."+k)
	}
	for _, k := range ks.Tags {
		out = append(out, "tags."+k)
	}
	return out
}

// defaultParallelAxes picks the params whose values differ among the runs, then their
// metrics in the schema's order, defaultAxes in all.
func defaultParallelAxes(recs []*tracker.RunRecord, fields []string) []string {
	var params, metrics []string
	for _, f := range fields {
		field, _ := query.ParseField(f)
		switch field.Kind {
		case query.FieldParam:
			first, _, _ := fieldValue(recs[0], field)
			if slices.ContainsFunc(recs, func(r *tracker.RunRecord) bool { v, _, _ := fieldValue(r, field); return v != first }) {
				params = append(params, f)
			}
		case query.FieldMetric:
			metrics = append(metrics, f)
		}
	}
	params = params[:min(len(params), defaultAxes-min(len(metrics), 2))]
	return append(params, metrics[:min(len(metrics), defaultAxes-len(params))]...)
}

// parallelData lays the runs out on the axes.
func parallelData(recs []*tracker.RunRecord, q parallelQuery, axes []string) *parallelJSON {
	out := &parallelJSON{Axes: make([]parallelAxis, len(axes)), Runs: make([]parallelRun, len(recs)), Color: -1}
	for i := range recs {
		out.Runs[i] = parallelRun{ID: recs[i].ID, Name: recs[i].Name, Status: string(recs[i].Status),
			Values: make([]*float64, len(axes)), Text: make([]string, len(axes))}
	}
	for a, name := range axes {
		f, _ := query.ParseField(name)
		ax := parallelAxis{Field: name, Title: name, Numeric: true, Min: math.Inf(1), Max: math.Inf(-1)}
		if f.Kind == query.FieldMetric {
			info := metricMeta(f.Key)
			ax.Title, ax.Better = info.Title, info.Better
			// Coloured by the metric asked for, else the charts' first metric, else the first.
			if q.Color == name || q.Color == "" && (f.Key == chartMetric || out.Color < 0) {
				out.Color = a
			}
		}
		// A param or tag is numeric when every value it has parses as a number.
		nums := make([]float64, len(recs))
		has := make([]bool, len(recs))
		for i, r := range recs {
			text, v, ok := fieldValue(r, f)
			out.Runs[i].Text[a], has[i] = text, ok
			if !ok {
				continue
			}
			if f.Kind != query.FieldMetric {
				n, err := strconv.ParseFloat(text, 64)
				if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
					ax.Numeric = false
				}
				v = n
			}
			nums[i] = v
		}
		if ax.Numeric {
			for i := range recs {
				if has[i] {
					v := nums[i]
					out.Runs[i].Values[a] = &v
					ax.Min, ax.Max = min(ax.Min, v), max(ax.Max, v)
				}
			}
		} else {
			set := map[string]bool{}
			for i := range recs {
				if has[i] {
					set[out.Runs[i].Text[a]] = true
				}
			}
			ax.Values = slices.Sorted(maps.Keys(set))
			for i := range recs {
				if has[i] {
					v := float64(slices.Index(ax.Values, out.Runs[i].Text[a]))
					out.Runs[i].Values[a] = &v
				}
			}
			ax.Min, ax.Max = 0, float64(max(len(ax.Values)-1, 0))
		}
		if ax.Min > ax.Max { // no run has a value
			ax.Min, ax.Max = 0, 0
		}
		out.Axes[a] = ax
	}
	return out
}

func (s *Server) parallelPage(w http.ResponseWriter, r *http.Request) {
	q, err := parseParallelQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	v := &parallelView{Query: q, Runs: strings.Join(q.Runs, " ")}
	axes, err := s.parallelAxes(q)
	var qe *query.Error
	switch {
	case errors.As(err, &qe):
		v.Error = qe.Error()
	case err != nil:
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	v.Query.Axes = axes
	ks, err := s.keys.get(s.store)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	for _, f := range keySetFields(ks) {
		field, _ := query.ParseField(f)
		c := axisChoice{Field: f, Title: f, Checked: slices.Contains(v.Query.Axes, f), Metric: field.Kind == query.FieldMetric, Colour: f == q.Color}
		if c.Metric {
			c.Title = metricMeta(field.Key).Title
		}
		v.Choices = append(v.Choices, c)
	}
	s.page(w, r, "parallel", "Parallel coordinates", v)
}

// apiParallel answers the page's ?q=…|run=…&axis=…&color=… with the runs on the axes.
func (s *Server) apiParallel(w http.ResponseWriter, r *http.Request) {
	q, err := parseParallelQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	axes, err := s.parallelAxes(q)
	var recs []*tracker.RunRecord
	var more bool
	if err == nil {
		recs, more, err = s.parallelRuns(q, axes)
	}
	var qe *query.Error
	switch {
	case errors.As(err, &qe):
		s.fail(w, r, http.StatusBadRequest, qe)
		return
	case err != nil:
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	out := parallelData(recs, q, axes)
	out.More = more
	writeJSON(w, http.StatusOK, out)
}
