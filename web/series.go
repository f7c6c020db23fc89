package web

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// seriesJSON is one run's curve of a metric, downsampled.
type seriesJSON struct {
	Run       string    `json:"run"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Total     int       `json:"total"`     // values logged
	NonFinite int       `json:"nonfinite"` // NaN or ±Inf values, left out
	X         []float64 `json:"x"`
	Y         []float64 `json:"y"`
}

// groupJSON is the runs that share a value of the grouping param or tag, as one curve: the
// mean at each x of the runs that have a value there, with their minimum and maximum.
type groupJSON struct {
	Value string    `json:"value"` // "" for the runs without the param or tag
	Runs  []string  `json:"runs"`
	Names []string  `json:"names"`
	X     []float64 `json:"x"`
	Mean  []float64 `json:"mean"`
	Min   []float64 `json:"min"`
	Max   []float64 `json:"max"`
	N     []int     `json:"n"` // runs with a value at each x
}

// chartJSON is the answer of /api/series.
type chartJSON struct {
	metricInfo
	X      string       `json:"x"` // "epoch", "step" or "time" (Unix seconds)
	Series []seriesJSON `json:"series"`
	Group  string       `json:"group,omitempty"`
	Groups []groupJSON  `json:"groups,omitempty"`
}

// apiSeries answers ?run=ID…&key=METRIC&x=auto|epoch|step|time&points=N[&group=FIELD] with
// each run's curve of the metric, downsampled with LTTB to at most N (≤ 2,000) points; with
// group, also one mean curve and min–max band per value of the param or tag.
func (s *Server) apiSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("key")
	if key == "" {
		s.fail(w, r, http.StatusBadRequest, errNoKey)
		return
	}
	points := maxSeriesPoints
	if p := q.Get("points"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("points=%q is not a number", p))
			return
		}
		points = min(max(n, minSeriesPoints), maxSeriesPoints)
	}
	axis, err := parseAxis(q.Get("x"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	group, err := parseChartGroup(q.Get("group"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if group != "" && axis == "time" {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("group=%s: grouping lines runs up by step or epoch; wall-clock times of different runs never coincide", group))
		return
	}
	recs, err := s.requestedRuns(q)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	out, err := s.series(recs, key, axis, points, group)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// curve is one run's finite values of a metric, before downsampling.
type curve struct {
	x, y      []float64
	total     int
	nonFinite int
}

// series reads each run's history of key and downsamples it. The x axis is the epoch when
// every run logged the metric once per epoch (axis "auto"), else the step; "time" is the
// wall-clock time each value was logged.
func (s *Server) series(recs []*tracker.RunRecord, key, axis string, points int, group string) (*chartJSON, error) {
	out := &chartJSON{metricInfo: metricMeta(key), X: axis, Series: make([]seriesJSON, 0, len(recs)), Group: group}
	var curves []curve
	var err error
	if axis == "time" {
		curves, err = s.timeCurves(recs, key)
	} else {
		curves, out.X, err = s.stepCurves(recs, key, axis)
	}
	if err != nil {
		return nil, err
	}
	for i, rec := range recs {
		c := curves[i]
		sj := seriesJSON{Run: rec.ID, Name: rec.Name, Status: string(rec.Status), Total: c.total, NonFinite: c.nonFinite}
		sj.X, sj.Y = lttb(c.x, c.y, points)
		out.Series = append(out.Series, sj)
	}
	if group != "" {
		out.Groups = groupCurves(recs, curves, group, points)
	}
	return out, nil
}

// stepCurves reads the runs' values by step, or by epoch: on the epoch axis the values of
// one epoch are spread evenly over (epoch-1, epoch].
func (s *Server) stepCurves(recs []*tracker.RunRecord, key, axis string) ([]curve, string, error) {
	all := make([]*tracker.Series, len(recs))
	perEpoch := true
	for i, rec := range recs {
		h, err := s.store.MetricSeries(rec.ID, key)
		if err != nil {
			return nil, "", err
		}
		all[i] = h
		for j := 1; j < h.Len() && perEpoch; j++ {
			perEpoch = h.Epochs[j] > h.Epochs[j-1]
		}
	}
	if axis == "auto" {
		axis = map[bool]string{true: "epoch", false: "step"}[perEpoch]
	}
	curves := make([]curve, len(recs))
	for i, h := range all {
		c := curve{total: h.Len(), x: make([]float64, 0, h.Len()), y: make([]float64, 0, h.Len())}
		for j := 0; j < h.Len(); {
			k := j + 1
			for k < h.Len() && h.Epochs[k] == h.Epochs[j] {
				k++
			}
			for n := j; n < k; n++ {
				v := h.Values[n]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					c.nonFinite++
					continue
				}
				x := float64(h.Steps[n])
				if axis == "epoch" {
					x = float64(h.Epochs[n]) - 1 + float64(n-j+1)/float64(k-j)
				}
				c.x, c.y = append(c.x, x), append(c.y, v)
			}
			j = k
		}
		curves[i] = c
	}
	return curves, axis, nil
}

// timeCurves reads the runs' values by the wall-clock time they were logged (Unix seconds,
// to the millisecond), in step order; a value logged at the same millisecond as the one
// before it moves a millisecond on, so that x keeps increasing.
func (s *Server) timeCurves(recs []*tracker.RunRecord, key string) ([]curve, error) {
	curves := make([]curve, len(recs))
	for i, rec := range recs {
		h, err := s.store.MetricHistory(rec.ID, key)
		if err != nil {
			return nil, err
		}
		c := curve{total: len(h), x: make([]float64, 0, len(h)), y: make([]float64, 0, len(h))}
		last := math.Inf(-1)
		for _, p := range h {
			if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
				c.nonFinite++
				continue
			}
			x := max(float64(p.Time.UnixMilli()), last+1)
			last = x
			c.x, c.y = append(c.x, x/1000), append(c.y, p.Value)
		}
		curves[i] = c
	}
	return curves, nil
}

// groupCurves gathers the runs by their value of field (params.KEY, tags.KEY or their
// seedless config) and
// reduces each group to its mean, minimum and maximum at every x where one of its runs has
// a value, downsampled by the mean's shape. Groups come in the order of their values
// (numerically when every value is a number), runs without the field last.
func groupCurves(recs []*tracker.RunRecord, curves []curve, field string, points int) []groupJSON {
	f, _ := query.ParseField(field) // checked by parseChartGroup
	byValue := map[string][]int{}
	for i, rec := range recs {
		m := rec.Params
		if f.Kind == query.FieldTag {
			m = rec.Tags
		}
		v := m[f.Key]
		if field == configGroup {
			v = seedlessConfig(rec.Params)
		}
		byValue[v] = append(byValue[v], i)
	}
	values := make([]string, 0, len(byValue))
	numeric := true
	for v := range byValue {
		values = append(values, v)
		if _, err := strconv.ParseFloat(v, 64); err != nil && v != "" {
			numeric = false
		}
	}
	slices.SortFunc(values, func(a, b string) int {
		if a == "" || b == "" {
			return cmp.Compare(b, a) // "" (no value) last
		}
		if numeric {
			fa, _ := strconv.ParseFloat(a, 64)
			fb, _ := strconv.ParseFloat(b, 64)
			return cmp.Compare(fa, fb)
		}
		return cmp.Compare(a, b)
	})
	out := make([]groupJSON, 0, len(values))
	for _, v := range values {
		g := groupJSON{Value: v}
		type acc struct {
			sum, lo, hi float64
			n           int
		}
		at := map[float64]*acc{}
		for _, i := range byValue[v] {
			g.Runs, g.Names = append(g.Runs, recs[i].ID), append(g.Names, recs[i].Name)
			for j, x := range curves[i].x {
				y := curves[i].y[j]
				a := at[x]
				if a == nil {
					a = &acc{lo: y, hi: y}
					at[x] = a
				}
				a.sum, a.lo, a.hi, a.n = a.sum+y, min(a.lo, y), max(a.hi, y), a.n+1
			}
		}
		xs := make([]float64, 0, len(at))
		for x := range at {
			xs = append(xs, x)
		}
		sort.Float64s(xs)
		mean := make([]float64, len(xs))
		for j, x := range xs {
			mean[j] = at[x].sum / float64(at[x].n)
		}
		for _, j := range lttbIndices(xs, mean, points) {
			a := at[xs[j]]
			g.X, g.Mean = append(g.X, xs[j]), append(g.Mean, mean[j])
			g.Min, g.Max, g.N = append(g.Min, a.lo), append(g.Max, a.hi), append(g.N, a.n)
		}
		if g.X == nil {
			g.X, g.Mean, g.Min, g.Max, g.N = []float64{}, []float64{}, []float64{}, []float64{}, []int{}
		}
		out = append(out, g)
	}
	return out
}
