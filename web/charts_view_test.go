package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// TestAFinishedRunWithOneValueIsNotLive: a run that ended after one epoch has no curve of
// two values, yet nothing more will come: its panels are not live (no "live · updated…",
// no event stream), while a running run without a second value yet still is. The chooser
// names the metric by its schema title even without a curve (a sweep's first trials).
func TestAFinishedRunWithOneValueIsNotLive(t *testing.T) {
	store := newStore(t)
	short, err := store.StartRun(tracker.RunSpec{Name: "one-epoch"})
	if err != nil {
		t.Fatal(err)
	}
	if err := experiments.LogEpoch(short, aelib.EpochMetrics{Epoch: 1, Step: 10, ValLoss: 0.3, TrainLoss: 0.4}); err != nil {
		t.Fatal(err)
	}
	short.Finish(tracker.StatusFinished, "")
	running, err := store.StartRun(tracker.RunSpec{Name: "starting"})
	if err != nil {
		t.Fatal(err)
	}
	defer running.Finish(tracker.StatusFinished, "")
	h := newServer(t, store, Options{}).Handler()
	panel := regexp.MustCompile(`<section class="chart-panel[^"]*"[^>]*>`)
	option := regexp.MustCompile(`<option value="val_bce"[^>]*>([^<]*)</option>`)
	for _, c := range []struct {
		target string
		live   bool
	}{
		{"/runs/" + short.ID(), false}, {"/charts?run=" + short.ID(), false},
		{"/runs/" + running.ID(), true}, {"/charts?run=" + running.ID(), true},
	} {
		body := readBody(t, do(t, h, "GET", c.target, nil))
		tag := panel.FindString(body)
		if tag == "" {
			t.Fatalf("%s: no chart panel", c.target)
		}
		if live := strings.Contains(tag, "data-live"); live != c.live {
			t.Errorf("%s: live %v, want %v: %s", c.target, live, c.live, tag)
		}
		if m := option.FindStringSubmatch(body); m == nil || m[1] != "val BCE (val_bce)" {
			t.Errorf("%s: the chooser's val_bce option is %q, want the schema's title", c.target, m)
		}
	}
}

// TestSeriesGroupedByAParam: ?group=params.model gives one curve per model, the mean of its
// runs at each epoch with their minimum and maximum, and the runs it gathers.
func TestSeriesGroupedByAParam(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 6) // vanilla: runs 0 and 3; deep: 1 and 4; denoise: 2 and 5
	h := newServer(t, store, Options{}).Handler()
	q := url.Values{"key": {chartMetric}, "group": {"params.model"}, "run": ids}
	res := do(t, h, "GET", "/api/series?"+q.Encode(), nil)
	var c chartJSON
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d, %v", res.StatusCode, err)
	}
	if c.Group != "params.model" || len(c.Groups) != 3 || len(c.Series) != 6 {
		t.Fatalf("group %q, %d groups, %d series", c.Group, len(c.Groups), len(c.Series))
	}
	values := []string{c.Groups[0].Value, c.Groups[1].Value, c.Groups[2].Value}
	if !slices.Equal(values, []string{aelib.ModelDeep, aelib.ModelDenoise, aelib.ModelVanilla}) {
		t.Errorf("groups %v", values)
	}
	g := c.Groups[2]
	// logRuns: val BCE of run i at epoch e is (4-e)/(i+1)/3; vanilla is runs 0 and 3.
	at := func(i, e int) float64 { return float64(4-e) / float64(i+1) / 3 }
	if !slices.Equal(g.Runs, []string{ids[0], ids[3]}) || !slices.Equal(g.X, []float64{1, 2, 3}) || !slices.Equal(g.N, []int{2, 2, 2}) {
		t.Fatalf("vanilla group %+v", g)
	}
	for j, e := range []int{1, 2, 3} {
		lo, hi := at(3, e), at(0, e)
		if math.Abs(g.Mean[j]-(lo+hi)/2) > 1e-12 || g.Min[j] != lo || g.Max[j] != hi {
			t.Errorf("epoch %d: mean %v min %v max %v, want %v %v %v", e, g.Mean[j], g.Min[j], g.Max[j], (lo+hi)/2, lo, hi)
		}
	}
	// Runs without the tag form one group, listed last.
	q.Set("group", "tags.absent")
	json.NewDecoder(do(t, h, "GET", "/api/series?"+q.Encode(), nil).Body).Decode(&c)
	if len(c.Groups) != 1 || c.Groups[0].Value != "" || len(c.Groups[0].Runs) != 6 {
		t.Errorf("grouped by a tag no run has: %+v", c.Groups)
	}
	for group, want := range map[string]string{
		"attributes.name":     `group=\"attributes.name\": group by a param or a tag, e.g. group=params.model`,
		"params.model&x=time": "group=params.model: grouping lines runs up by step or epoch; wall-clock times of different runs never coincide",
	} {
		res := do(t, h, "GET", "/api/series?key="+chartMetric+"&run="+ids[0]+"&group="+group, nil)
		if body := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("group=%s: %d %s, want 400 %q", group, res.StatusCode, body, want)
		}
	}
}

// TestSeriesOnTheWallClock: ?x=time gives each value at the time it was logged, in Unix
// seconds, increasing.
func TestSeriesOnTheWallClock(t *testing.T) {
	store := newStore(t)
	before := float64(time.Now().UnixMilli()) / 1000
	ids := logRuns(t, store, 2)
	after := float64(time.Now().UnixMilli()) / 1000
	h := newServer(t, store, Options{}).Handler()
	var c chartJSON
	json.NewDecoder(do(t, h, "GET", "/api/series?x=time&key="+chartMetric+"&run="+ids[0]+"&run="+ids[1], nil).Body).Decode(&c)
	if c.X != "time" || len(c.Series) != 2 {
		t.Fatalf("axis %q, %d series", c.X, len(c.Series))
	}
	for _, s := range c.Series {
		if len(s.X) != 3 || !slices.IsSorted(s.X) || s.X[0] < before || s.X[2] > after || s.X[0] == s.X[1] {
			t.Errorf("%s: x %v, want 3 increasing times in [%v, %v]", s.Name, s.X, before, after)
		}
	}
}

// TestChartsPageKeepsTheViewInTheURL: the charts page draws one panel per ?key=, each with
// its own scale and smoothing, with the page's x axis and grouping, as the URL says.
func TestChartsPageKeepsTheViewInTheURL(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 3)
	h := newServer(t, store, Options{}).Handler()
	loss := experiments.TrainLoss.Name
	q := url.Values{"run": ids, "key": {chartMetric, loss}, "log": {loss}, "smooth": {chartMetric + ":0.6"}, "x": {"step"}, "group": {"params.model"}}
	res := do(t, h, "GET", "/charts?"+q.Encode(), nil)
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	grid := body[strings.Index(body, `id="panels"`):strings.Index(body, `id="panel-template"`)]
	panels := strings.Split(grid, `<section class="chart-panel grid-panel"`)[1:]
	if len(panels) != 2 {
		t.Fatalf("%d panels, want 2", len(panels))
	}
	for i, want := range []struct {
		key, smooth string
		log         bool
	}{{chartMetric, "0.6", false}, {loss, "0", true}} {
		p := panels[i]
		if !strings.Contains(p, `<option value="`+want.key+`" title="`+want.key+`" selected>`) ||
			!strings.Contains(p, `class="chart-smooth" min="0" max="0.99" step="0.01" value="`+want.smooth+`"`) ||
			strings.Contains(p, `class="chart-log" checked`) != want.log ||
			!strings.Contains(p, `data-x="step" data-group="params.model"`) {
			t.Errorf("panel %d (%s) does not show the URL's view:\n%s", i, want.key, p)
		}
	}
	if !strings.Contains(body, `<option value="params.model" selected>params.model</option>`) || !strings.Contains(body, `<option value="step" selected>`) {
		t.Error("the toolbar does not show the URL's grouping and x axis")
	}
	for target, want := range map[string]string{
		"/charts?smooth=val_bce:2": `smooth=&#34;val_bce:2&#34;: use smooth=METRIC:WEIGHT with a weight from 0 to 0.99`,
		"/charts?x=hours":          `x=&#34;hours&#34;: use auto, epoch, step or time`,
		"/charts?" + strings.Repeat("key=k&", 1) + "group=metrics.val_bce": `group by a param or a tag`,
	} {
		res := do(t, h, "GET", target, nil)
		if b := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, want) {
			t.Errorf("%s: %d, want 400 with %q", target, res.StatusCode, want)
		}
	}
}

// TestParallelCoordinatesOfAQuery: /api/parallel lays the runs a query selects on the axes:
// a categorical param by its values, metrics by number, coloured by the chart metric.
func TestParallelCoordinatesOfAQuery(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 6)
	h := newServer(t, store, Options{}).Handler()
	q := url.Values{"q": {`params.model = "vanilla" or params.model = "deep"`}, "axis": {"params.model,params.i", "metrics." + chartMetric}}
	res := do(t, h, "GET", "/api/parallel?"+q.Encode(), nil)
	var p parallelJSON
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	if len(p.Runs) != 4 || p.More || len(p.Axes) != 3 || p.Color != 2 {
		t.Fatalf("%d runs (more: %v), %d axes, colour %d", len(p.Runs), p.More, len(p.Axes), p.Color)
	}
	model, i, bce := p.Axes[0], p.Axes[1], p.Axes[2]
	if model.Numeric || !slices.Equal(model.Values, []string{"deep", "vanilla"}) || !i.Numeric || i.Min != 0 || i.Max != 4 ||
		bce.Title != metricMeta(chartMetric).Title || bce.Better != -1 {
		t.Errorf("axes %+v", p.Axes)
	}
	for _, r := range p.Runs {
		n := slices.Index(ids, r.ID)
		if n%3 == 2 {
			t.Errorf("%s is not selected by the query", r.Name)
		}
		want := []float64{float64(map[int]int{0: 1, 1: 0}[n%3]), float64(n), 1 / float64(n+1) / 3}
		if *r.Values[0] != want[0] || *r.Values[1] != want[1] || math.Abs(*r.Values[2]-want[2]) > 1e-12 {
			t.Errorf("%s: %v %v %v, want %v", r.Name, *r.Values[0], *r.Values[1], *r.Values[2], want)
		}
	}
	// Without axes: the params that differ, then metrics in the schema's order, six in all.
	json.NewDecoder(do(t, h, "GET", "/api/parallel?q=params.model+%3D+%22deep%22", nil).Body).Decode(&p)
	var fields []string
	for _, a := range p.Axes {
		fields = append(fields, a.Field)
	}
	if len(p.Runs) != 2 || len(fields) != defaultAxes || fields[0] != "params.i" || !strings.HasPrefix(fields[1], "metrics.") || slices.Contains(fields, "params.model") {
		t.Errorf("default axes %v over %d runs", fields, len(p.Runs))
	}
	if body := readBody(t, do(t, h, "GET", "/parallel?"+q.Encode(), nil)); !strings.Contains(body, `data-axes="params.model,params.i,metrics.val_bce"`) ||
		!strings.Contains(body, `<input type="checkbox" name="axis" value="params.model" checked>`) || !strings.Contains(body, `value="tags.group">`) {
		t.Error("the page does not carry its axes to the script")
	}
	for target, want := range map[string]string{
		"/api/parallel?axis=attributes.name": "an axis is a param, tag or metric",
		"/api/parallel?color=params.model":   "colour by a metric",
		"/api/parallel?q=params.model+%3D":   "expected a value after '='",
	} {
		res := do(t, h, "GET", target, nil)
		if b := readBody(t, res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, want) {
			t.Errorf("%s: %d %s, want 400 with %q", target, res.StatusCode, b, want)
		}
	}
}

// TestParallelTakesMoreRunsThanAChart: a selection of more runs than a chart draws still
// opens in parallel coordinates.
func TestParallelTakesMoreRunsThanAChart(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, maxChartRuns+2)
	h := newServer(t, store, Options{}).Handler()
	var p parallelJSON
	res := do(t, h, "GET", "/api/parallel?"+url.Values{"run": ids}.Encode(), nil)
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || res.StatusCode != http.StatusOK || len(p.Runs) != len(ids) {
		t.Fatalf("%d, %v: %d runs, want %d", res.StatusCode, err, len(p.Runs), len(ids))
	}
	if res := do(t, h, "GET", "/parallel?"+url.Values{"run": ids}.Encode(), nil); res.StatusCode != http.StatusOK {
		t.Errorf("the page: %d", res.StatusCode)
	}
}

// TestAChartOfSeveralRunsOffersGrouping: the compare page's chart (any panel of several runs)
// offers their params and tags to group by; a run's own chart does not.
func TestAChartOfSeveralRunsOffersGrouping(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 2)
	h := newServer(t, store, Options{}).Handler()
	body := readBody(t, do(t, h, "GET", "/compare?run="+ids[0]+"&run="+ids[1], nil))
	if !strings.Contains(body, `<select class="chart-group"><option value="">none</option><option value="config">config but the seed</option><option value="params.i">params.i</option><option value="params.model">params.model</option><option value="tags.group">tags.group</option></select>`) {
		t.Error("the compare page's chart offers no grouping by the runs' params and tags")
	}
	if body := readBody(t, do(t, h, "GET", "/runs/"+ids[0], nil)); strings.Contains(body, `class="chart-group"`) {
		t.Error("a run's own chart offers grouping")
	}
}

// TestSeriesGroupedBySeedlessConfig: ?group=config gathers the runs that differ only by
// their seed into one band.
func TestSeriesGroupedBySeedlessConfig(t *testing.T) {
	store := newStore(t)
	var ids []string
	for _, p := range []struct{ lr, seed string }{{"0.1", "1"}, {"0.1", "2"}, {"0.2", "1"}} {
		run, err := store.StartRun(tracker.RunSpec{Params: map[string]string{"model": "deep", "lr": p.lr, "seed": p.seed}})
		if err != nil {
			t.Fatal(err)
		}
		for e := 1; e <= 2; e++ {
			if err := experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: e, Step: int64(e), ValLoss: float64(e) + float64(len(ids))}); err != nil {
				t.Fatal(err)
			}
		}
		run.Finish(tracker.StatusFinished, "")
		ids = append(ids, run.ID())
	}
	h := newServer(t, store, Options{}).Handler()
	var c chartJSON
	res := do(t, h, "GET", "/api/series?"+url.Values{"key": {chartMetric}, "group": {"config"}, "run": ids}.Encode(), nil)
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", res.StatusCode, err)
	}
	if len(c.Groups) != 2 || c.Groups[0].Value != "lr=0.1, model=deep" || !slices.Equal(c.Groups[0].Runs, ids[:2]) ||
		c.Groups[1].Value != "lr=0.2, model=deep" || !slices.Equal(c.Groups[1].N, []int{1, 1}) {
		t.Fatalf("groups %+v", c.Groups)
	}
	if g := c.Groups[0]; !slices.Equal(g.Mean, []float64{1.5, 2.5}) || !slices.Equal(g.Min, []float64{1, 2}) || !slices.Equal(g.Max, []float64{2, 3}) {
		t.Errorf("the two seeds' band: mean %v min %v max %v", g.Mean, g.Min, g.Max)
	}
}
