package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

type runsAnswer struct {
	Total   int              `json:"total"`
	Offset  int              `json:"offset"`
	Limit   int              `json:"limit"`
	Columns []string         `json:"columns"`
	Runs    []tracker.RunRow `json:"runs"`
	Error   string           `json:"error"`
	Column  int              `json:"column"`
}

func apiRuns(t *testing.T, h http.Handler, query string) (int, runsAnswer) {
	t.Helper()
	res := do(t, h, "GET", "/api/runs?"+query, nil)
	var a runsAnswer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("/api/runs?%s: %v", query, err)
	}
	return res.StatusCode, a
}

func names(a runsAnswer) []string {
	var out []string
	for _, r := range a.Runs {
		out = append(out, r.Name)
	}
	return out
}

func TestRunsAPIPagesSortsAndCounts(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 130)
	h := newServer(t, store, Options{}).Handler()

	code, a := apiRuns(t, h, "limit=50&offset=100")
	if code != http.StatusOK || a.Total != 130 || len(a.Runs) != 30 || a.Offset != 100 {
		t.Fatalf("page 3 of 130: %d, total %d, %d runs, offset %d", code, a.Total, len(a.Runs), a.Offset)
	}
	if a.Runs[29].Name != "run-000" { // newest first: the oldest run is last
		t.Errorf("last run of the last page: %s", a.Runs[29].Name)
	}
	_, a = apiRuns(t, h, url.Values{"order": {"metrics." + chartMetric + " desc"}, "limit": {"3"}, "col": {"metrics." + chartMetric, "params.model"}}.Encode())
	if got := names(a); strings.Join(got, ",") != "run-000,run-001,run-002" {
		t.Errorf("order by %s desc: %v", chartMetric, got)
	}
	if a.Runs[0].Metrics[chartMetric].Value != 1.0/3 || a.Runs[0].Params["model"] != "vanilla" || len(a.Runs[0].Tags) != 0 {
		t.Errorf("columns of run-000: %+v", a.Runs[0])
	}
	_, a = apiRuns(t, h, url.Values{"q": {`params.model = "deep" and tags.group in ("1", "2") or params.i = 129`}, "limit": {"500"}}.Encode())
	// deep: i%3 == 1; group i%4 in {1, 2}; i < 130: 22 runs; or run 129 (i%3 == 0).
	want := 0
	for i := range 130 {
		if i%3 == 1 && (i%4 == 1 || i%4 == 2) || i == 129 {
			want++
		}
	}
	if a.Total != want || len(a.Runs) != want {
		t.Errorf("filter: total %d, %d runs; want %d", a.Total, len(a.Runs), want)
	}
	code, a = apiRuns(t, h, url.Values{"q": {"metrics.val_bce < and"}}.Encode())
	if code != http.StatusBadRequest || a.Column != 19 || !strings.Contains(a.Error, "expected a value") {
		t.Errorf("bad query: %d, column %d, %q; want 400 at column 19 (the 'and')", code, a.Column, a.Error)
	}
	if code, _ := apiRuns(t, h, "order=metrics.%60x"); code != http.StatusBadRequest {
		t.Errorf("bad order: %d, want 400", code)
	}
}

func TestRunsTableShowsTheCaretAndPages(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 60)
	h := newServer(t, store, Options{}).Handler()
	body := readBody(t, do(t, h, "GET", "/runs/table?"+url.Values{"q": {`params.model = "deep" and metrics.val_bce < x`}}.Encode(), nil))
	m := regexp.MustCompile(`<span class="caret-query">([^<]*)</span>\n<span class="caret">( *)\^</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no caret box in:\n%s", body)
	}
	if col := strings.LastIndex(html.UnescapeString(m[1]), "x"); len(m[2]) != col {
		t.Errorf("caret under column %d, the bad token is at %d", len(m[2])+1, col+1)
	}
	page := readBody(t, do(t, h, "GET", "/?size=25&page=2", nil))
	for _, want := range []string{"60 runs, showing 26–50", "page 2 of 3", `rel="prev"`, `rel="next"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page 2 lacks %q", want)
		}
	}
	// The three pages show every run once.
	seen := map[string]int{}
	for p := 1; p <= 3; p++ {
		body := readBody(t, do(t, h, "GET", "/runs/table?size=25&page="+strconv.Itoa(p), nil))
		for _, m := range regexp.MustCompile(`>(run-\d{3})</a>`).FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
	}
	if len(seen) != 60 {
		t.Errorf("3 pages show %d distinct runs, want 60", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s on %d pages", name, n)
		}
	}
}

func TestUserTextIsEscaped(t *testing.T) {
	store := newStore(t)
	const evil = `<script>alert(1)</script>`
	run, err := store.StartRun(tracker.RunSpec{Name: evil, Experiment: `"><img src=x onerror=alert(2)>`,
		Params: map[string]string{"model": `</td><script>alert(3)</script>`}, Tags: map[string]string{"note": `'"><svg onload=alert(4)>`}})
	if err != nil {
		t.Fatal(err)
	}
	experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: 1, Step: 1, ValLoss: 0.5})
	experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: 2, Step: 2, ValLoss: 0.4})
	run.Finish(tracker.StatusFinished, `<b>bold</b>`)
	other := logRuns(t, store, 1)[0]
	h := newServer(t, store, Options{}).Handler()
	for _, target := range []string{"/", "/?col=tags.note&col=params.model", "/runs/" + run.ID(), "/compare?run=" + run.ID() + "&run=" + other} {
		body := readBody(t, do(t, h, "GET", target, nil))
		for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>bold"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: raw %q in the page", target, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the run name is not shown escaped", target)
		}
	}
}

func TestComparePage(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 3)
	h := newServer(t, store, Options{}).Handler()
	body := readBody(t, do(t, h, "GET", "/compare?run="+ids[0]+"&run="+ids[1][:8], nil))
	if !regexp.MustCompile(`<tr class="differs"><th>model</th><td>vanilla</td><td>deep</td></tr>`).MatchString(body) {
		t.Error("the differing param model is not marked")
	}
	// run-001's chart metric (1/6) beats run-000's (1/3): lower is better.
	if !strings.Contains(body, `>`+metricMeta(chartMetric).Title+`</th><td class="num">0.3333</td><td class="num best">0.1667</td>`) {
		t.Errorf("best value not marked:\n%s", body)
	}
	if !strings.Contains(body, "data-chart") {
		t.Error("no curves on the compare page")
	}
	if one := readBody(t, do(t, h, "GET", "/compare?run="+ids[0], nil)); !strings.Contains(one, "two runs or more") {
		t.Error("one run: no explanation")
	}
	if res := do(t, h, "GET", "/compare?run=ffffffff", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown run: %d, want 404", res.StatusCode)
	}
}

func TestKeysAndColumnChooser(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 2)
	h := newServer(t, store, Options{}).Handler()
	var ks tracker.KeySet
	json.NewDecoder(do(t, h, "GET", "/api/keys", nil).Body).Decode(&ks)
	if strings.Join(ks.Params, ",") != "i,model" || strings.Join(ks.Tags, ",") != "group" || !slices.Contains(ks.Metrics, chartMetric) {
		t.Errorf("keys %+v", ks)
	}
	page := readBody(t, do(t, h, "GET", "/?cols=1&col=tags.group", nil))
	if !strings.Contains(page, `value="tags.group" checked`) || !strings.Contains(page, `value="params.model">`) {
		t.Error("the chooser does not reflect the chosen columns")
	}
}
