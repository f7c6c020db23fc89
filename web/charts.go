package web

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// Limits of one chart and of the charts page.
const (
	maxSeriesPoints = 2000 // points per series after downsampling
	minSeriesPoints = 10
	maxChartRuns    = 50
	maxPanels       = 12 // metrics the charts page shows at once
	recentRuns      = 10 // runs the charts page shows when none are selected
)

// requestedRuns reads the runs a request names (?run=ID, repeated or comma-separated;
// prefixes are resolved) and loads them, at most maxChartRuns.
func (s *Server) requestedRuns(v url.Values) ([]*tracker.RunRecord, error) {
	return s.requestedRunsUpTo(v, maxChartRuns)
}

// requestedRunsUpTo is requestedRuns with another bound.
func (s *Server) requestedRunsUpTo(v url.Values, limit int) ([]*tracker.RunRecord, error) {
	var ids []string
	for _, r := range v["run"] {
		for _, id := range strings.Split(r, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > limit {
		return nil, fmt.Errorf("%d runs asked for; at most %d at once", len(ids), limit)
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

// chartView is what one chart panel (template "chart") needs: the runs, the metrics they
// have curves of, the one shown and how.
type chartView struct {
	RunIDs string // space-separated full ids
	Keys   []keyOption
	Key    string
	Live   bool // a run is still training: the panel follows the store
	Log    bool
	Smooth float64  // EMA weight, 0 for none
	X      string   // auto, epoch, step or time
	Group  string   // params.KEY or tags.KEY whose runs become one band; "" for none
	Groups []string // what a panel of several runs offers to group by (the charts page: its toolbar)
	Grid   bool     // a panel of the charts page: removable, its x axis and grouping the page's
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
// schema's chart metric, else the first. The panel is live only while one of the runs is
// running: a finished run with fewer than two values of a metric has nothing more to come.
func (s *Server) newChartView(recs []*tracker.RunRecord, want string) (*chartView, error) {
	keys, err := s.curveKeys(recs)
	if err != nil {
		return nil, err
	}
	return chartOf(recs, keys, want), nil
}

// chartOf is newChartView with the runs' curves already listed.
func chartOf(recs []*tracker.RunRecord, keys []keyOption, want string) *chartView {
	cv := &chartView{RunIDs: strings.Join(runIDs(recs), " "), Keys: keys, X: "auto"}
	if len(recs) > 1 {
		cv.Groups = chartGroupFields(recs)
	}
	for _, r := range recs {
		cv.Live = cv.Live || r.Status == tracker.StatusRunning
	}
	has := func(k string) bool { return slices.ContainsFunc(keys, func(o keyOption) bool { return o.Key == k }) }
	switch {
	case want != "":
		cv.Key = want
	case has(chartMetric) || len(keys) == 0:
		cv.Key = chartMetric
	default:
		cv.Key = keys[0].Key
	}
	// The chooser names the metric shown by its schema title even before it has a curve
	// (a sweep's first trials, a run that logged it once).
	if !has(cv.Key) {
		cv.Keys = append([]keyOption{{Key: cv.Key, Title: metricMeta(cv.Key).Title}}, keys...)
	}
	return cv
}

// chartsView is the charts page: a grid of panels over the same runs.
type chartsView struct {
	Runs     []*tracker.RunRecord
	Panels   []*chartView
	Blank    *chartView // the panel the page clones when a metric is added
	Keys     []keyOption
	X        string
	Group    string
	Groups   []string // the params and tags of the runs, to group by
	Selected bool     // the runs were chosen (else: the most recent)
}

// chartsPage shows one panel per ?key= (the schema's chart metric when none), with the
// view the URL describes: ?log=KEY and ?smooth=KEY:WEIGHT per panel, ?x= and ?group= for
// all, so that a link reopens the same view.
func (s *Server) chartsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	recs, err := s.requestedRuns(q)
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
	opts, err := parseChartsQuery(q)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if v.Keys, err = s.curveKeys(v.Runs); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	v.X, v.Group, v.Groups = opts.x, opts.group, chartGroupFields(v.Runs)
	if len(opts.keys) == 0 {
		opts.keys = []string{chartOf(v.Runs, v.Keys, "").Key}
	}
	for _, k := range opts.keys {
		cv := chartOf(v.Runs, v.Keys, k)
		cv.Log, cv.Smooth, cv.X, cv.Group, cv.Grid = opts.log[k], opts.smooth[k], opts.x, opts.group, true
		v.Panels = append(v.Panels, cv)
	}
	v.Blank = chartOf(v.Runs, v.Keys, "")
	v.Blank.X, v.Blank.Group, v.Blank.Grid = opts.x, opts.group, true
	s.page(w, r, "charts", "Charts", v)
}

// chartsQuery is the view a charts page URL describes.
type chartsQuery struct {
	keys   []string
	log    map[string]bool
	smooth map[string]float64
	x      string
	group  string
}

func parseChartsQuery(q url.Values) (*chartsQuery, error) {
	o := &chartsQuery{log: map[string]bool{}, smooth: map[string]float64{}, x: "auto"}
	for _, k := range q["key"] {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(o.keys, k) {
			o.keys = append(o.keys, k)
		}
	}
	if len(o.keys) > maxPanels {
		return nil, fmt.Errorf("%d metrics asked for; the charts page shows at most %d at once", len(o.keys), maxPanels)
	}
	for _, k := range q["log"] {
		o.log[k] = true
	}
	for _, kv := range q["smooth"] {
		k, w, ok := strings.Cut(kv, ":")
		f, err := strconv.ParseFloat(w, 64)
		if !ok || err != nil || f < 0 || f > 0.99 {
			return nil, fmt.Errorf("smooth=%q: use smooth=METRIC:WEIGHT with a weight from 0 to 0.99", kv)
		}
		o.smooth[k] = f
	}
	var err error
	if o.x, err = parseAxis(q.Get("x")); err != nil {
		return nil, err
	}
	if o.group, err = parseChartGroup(q.Get("group")); err != nil {
		return nil, err
	}
	return o, nil
}

// parseAxis checks an x axis: auto (the default), epoch, step or time (wall-clock).
func parseAxis(x string) (string, error) {
	switch x {
	case "", "auto":
		return "auto", nil
	case "epoch", "step", "time":
		return x, nil
	}
	return "", fmt.Errorf("x=%q: use auto, epoch, step or time", x)
}

// configGroup groups runs by all their params but the seed: the seeds of one configuration
// become one band.
const configGroup = "config"

// parseChartGroup checks a grouping: a param or a tag (params.seed, tags.section), the
// seedless config, or none.
func parseChartGroup(g string) (string, error) {
	if g == "" || g == configGroup {
		return g, nil
	}
	f, err := query.ParseField(g)
	if err != nil || f.Kind != query.FieldParam && f.Kind != query.FieldTag {
		return "", fmt.Errorf("group=%q: group by a param or a tag, e.g. group=params.model, or by config (every param but the seed)", g)
	}
	return f.String(), nil
}

// chartGroupFields lists what the runs' curves can be grouped by: their config without the
// seed, their params and their tags.
func chartGroupFields(recs []*tracker.RunRecord) []string {
	set := map[string]bool{}
	params := false
	for _, r := range recs {
		params = params || len(r.Params) > 0
		for k := range r.Params {
			set[query.Field{Kind: query.FieldParam, Key: k}.String()] = true
		}
		for k := range r.Tags {
			set[query.Field{Kind: query.FieldTag, Key: k}.String()] = true
		}
	}
	if !params {
		return slices.Sorted(maps.Keys(set))
	}
	return append([]string{configGroup}, slices.Sorted(maps.Keys(set))...)
}

// seedlessConfig is a run's params but its seeds (any param whose name says seed), as
// "k=v, …" in key order: what runs that differ only by seed share.
func seedlessConfig(params map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if !strings.Contains(strings.ToLower(k), "seed") {
			parts = append(parts, k+"="+params[k])
		}
	}
	return strings.Join(parts, ", ")
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

var errNoKey = errors.New("no metric: add ?key=NAME")
