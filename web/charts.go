package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/tracker"
)

// Limits of one chart.
const (
	maxSeriesPoints = 2000 // points per series after downsampling
	minSeriesPoints = 10
	maxChartRuns    = 50
	recentRuns      = 10 // runs the charts page shows when none are selected
)

// runIDs reads the runs a request names (?run=ID, repeated or comma-separated; prefixes are
// resolved) and loads them.
func (s *Server) requestedRuns(v url.Values) ([]*tracker.RunRecord, error) {
	var ids []string
	for _, r := range v["run"] {
		for _, id := range strings.Split(r, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > maxChartRuns {
		return nil, fmt.Errorf("%d runs asked for; at most %d at once", len(ids), maxChartRuns)
	}
	var recs []*tracker.RunRecord
	seen := map[string]bool{}
	for _, id := range ids {
		rec, err := s.store.GetRun(id)
		if err != nil {
			return nil, err
		}
		if !seen[rec.ID] {
			seen[rec.ID] = true
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// chartView is what the chart panel (template "chart") needs: the runs, the metrics they
// have curves of and the one shown first.
type chartView struct {
	RunIDs string // space-separated full ids
	Keys   []keyOption
	Key    string
	Live   bool
}

type keyOption struct {
	Key    string `json:"key"`
	Title  string `json:"title"`
	Points int    `json:"points"` // the most values one of the runs logged
}

// curveKeys lists the metrics the runs logged more than once: those with a curve to draw.
func (s *Server) curveKeys(recs []*tracker.RunRecord) ([]keyOption, error) {
	hk, err := s.store.HistoryKeys(runIDs(recs)...)
	if err != nil {
		return nil, err
	}
	keys := []keyOption{}
	for _, h := range hk {
		if h.Points > 1 {
			keys = append(keys, keyOption{Key: h.Key, Title: metricMeta(h.Key).Title, Points: h.Points})
		}
	}
	return keys, nil
}

// newChartView lists the runs' curves; want is shown first when they have it, else the
// schema's chart metric, else the first.
func (s *Server) newChartView(recs []*tracker.RunRecord, want string) (*chartView, error) {
	cv := &chartView{}
	for _, r := range recs {
		cv.Live = cv.Live || r.Status == tracker.StatusRunning
	}
	cv.RunIDs = strings.Join(runIDs(recs), " ")
	var err error
	if cv.Keys, err = s.curveKeys(recs); err != nil {
		return nil, err
	}
	has := func(k string) bool { return slices.ContainsFunc(cv.Keys, func(o keyOption) bool { return o.Key == k }) }
	switch {
	case want != "" && has(want):
		cv.Key = want
	case has(chartMetric):
		cv.Key = chartMetric
	case len(cv.Keys) > 0:
		cv.Key = cv.Keys[0].Key
	}
	// Runs that have not logged a second value yet (just started) still get a live chart.
	cv.Live = cv.Live || len(recs) > 0 && cv.Key == ""
	if cv.Key == "" {
		cv.Key = want
		if cv.Key == "" {
			cv.Key = chartMetric
		}
	}
	return cv, nil
}

type chartsView struct {
	Runs     []*tracker.RunRecord
	Chart    *chartView
	Selected bool // the runs were chosen (else: the most recent)
}

func (s *Server) chartsPage(w http.ResponseWriter, r *http.Request) {
	recs, err := s.requestedRuns(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	v := &chartsView{Runs: recs, Selected: len(recs) > 0}
	if len(recs) == 0 {
		if v.Runs, err = s.store.SearchRuns(tracker.Search{Limit: recentRuns}); err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	if v.Chart, err = s.newChartView(v.Runs, r.URL.Query().Get("key")); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.page(w, r, "charts", "Charts", v)
}

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

// chartJSON is the answer of /api/series.
type chartJSON struct {
	metricInfo
	X      string       `json:"x"` // "epoch" or "step"
	Series []seriesJSON `json:"series"`
}

// apiSeries answers ?run=ID…&key=METRIC&x=auto|epoch|step&points=N with each run's curve of
// the metric, downsampled with LTTB to at most N (≤ 2,000) points.
func (s *Server) apiSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("key")
	if key == "" {
		s.fail(w, r, http.StatusBadRequest, errors.New("no metric: add ?key=NAME"))
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
	axis := q.Get("x")
	if axis != "" && axis != "auto" && axis != "epoch" && axis != "step" {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("x=%q: use auto, epoch or step", axis))
		return
	}
	recs, err := s.requestedRuns(q)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	out, err := s.series(recs, key, axis, points)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// series reads each run's history of key and downsamples it. The x axis is the epoch when
// every run logged the metric once per epoch (axis "auto"), else the step.
func (s *Server) series(recs []*tracker.RunRecord, key, axis string, points int) (*chartJSON, error) {
	all := make([]*tracker.Series, len(recs))
	perEpoch := true
	for i, rec := range recs {
		h, err := s.store.MetricSeries(rec.ID, key)
		if err != nil {
			return nil, err
		}
		all[i] = h
		for j := 1; j < h.Len() && perEpoch; j++ {
			perEpoch = h.Epochs[j] > h.Epochs[j-1]
		}
	}
	out := &chartJSON{metricInfo: metricMeta(key), X: axis, Series: make([]seriesJSON, 0, len(recs))}
	if axis == "" || axis == "auto" {
		out.X = map[bool]string{true: "epoch", false: "step"}[perEpoch]
	}
	for i, rec := range recs {
		h := all[i]
		sj := seriesJSON{Run: rec.ID, Name: rec.Name, Status: string(rec.Status), Total: h.Len()}
		xs, ys := make([]float64, 0, h.Len()), make([]float64, 0, h.Len())
		for j := 0; j < h.Len(); {
			// The values of one epoch: on the epoch axis, spread evenly over (epoch-1, epoch].
			k := j + 1
			for k < h.Len() && h.Epochs[k] == h.Epochs[j] {
				k++
			}
			for n := j; n < k; n++ {
				v := h.Values[n]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					sj.NonFinite++
					continue
				}
				x := float64(h.Steps[n])
				if out.X == "epoch" {
					x = float64(h.Epochs[n]) - 1 + float64(n-j+1)/float64(k-j)
				}
				xs, ys = append(xs, x), append(ys, v)
			}
			j = k
		}
		sj.X, sj.Y = lttb(xs, ys, points)
		out.Series = append(out.Series, sj)
	}
	return out, nil
}

// apiCurves lists the metrics the runs (?run=ID…) have curves of, for a live chart's chooser.
func (s *Server) apiCurves(w http.ResponseWriter, r *http.Request) {
	recs, err := s.requestedRuns(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	keys, err := s.curveKeys(recs)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, keys)
}
