package web

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// The CSV and JSON downloads hold every run of the query (not one page), in its order, with
// the columns shown; text a spreadsheet would run as a formula is defused.
func TestExportHoldsTheQuerysRuns(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 130)
	if err := store.SetTag(ids[3], "group", "=HYPERLINK(\"http://evil\")"); err != nil {
		t.Fatal(err)
	}
	h := newServer(t, store, Options{}).Handler()
	q := url.Values{"q": {`params.model = "deep"`}, "order": {"metrics.val_bce asc"}, "cols": {"1"},
		"col": {"params.model", "metrics.val_bce", "tags.group"}, "format": {"csv"}}
	res := do(t, h, "GET", "/runs/export?"+q.Encode(), nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := "id,name,status,experiment,start_time,duration_seconds,params.model,metrics.val_bce,tags.group"
	if strings.Join(rows[0], ",") != wantHead {
		t.Errorf("CSV head %q, want %q", strings.Join(rows[0], ","), wantHead)
	}
	_, a := apiRuns(t, h, url.Values{"q": q["q"], "order": q["order"], "limit": {"500"}}.Encode())
	if len(rows)-1 != 43 || a.Total != 43 { // deep: i%3 == 1, i < 130
		t.Fatalf("CSV rows %d, API total %d, want 43", len(rows)-1, a.Total)
	}
	for i, r := range rows[1:] {
		if r[0] != a.Runs[i].ID || r[6] != "deep" {
			t.Errorf("CSV row %d: %v, want run %s (deep)", i, r[:7], a.Runs[i].ID)
		}
		if i > 0 && r[7] < rows[i][7] && len(r[7]) == len(rows[i][7]) {
			t.Errorf("CSV not in the query's order at row %d: %s after %s", i, r[7], rows[i][7])
		}
		if r[0] == ids[3] && r[8] != "'=HYPERLINK(\"http://evil\")" {
			t.Errorf("a formula in a tag is exported as %q", r[8])
		}
	}
	q.Set("format", "json")
	var j struct {
		Total   int              `json:"total"`
		Columns []string         `json:"columns"`
		Runs    []tracker.RunRow `json:"runs"`
	}
	if err := json.NewDecoder(do(t, h, "GET", "/runs/export?"+q.Encode(), nil).Body).Decode(&j); err != nil {
		t.Fatal(err)
	}
	if j.Total != 43 || len(j.Runs) != 43 || j.Runs[0].ID != rows[1][0] || len(j.Columns) != 3 {
		t.Errorf("JSON: total %d, %d runs, columns %v", j.Total, len(j.Runs), j.Columns)
	}
	// The page links to the download of its own query.
	body := readBody(t, do(t, h, "GET", "/?"+url.Values{"q": q["q"]}.Encode(), nil))
	if !strings.Contains(body, `id="export-csv" href="/runs/export?format=csv&amp;q=params.model`) {
		t.Errorf("no export link for the query:\n%s", body)
	}
	if res := do(t, h, "GET", "/runs/export?format=xml", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("format=xml: %d", res.StatusCode)
	}
}

// Tagging and deleting the selected runs at once needs the CSRF token; an unknown id among
// them changes nothing.
func TestBulkTagAndDelete(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 5)
	srv := newServer(t, store, Options{})
	h := srv.Handler()
	post := func(v url.Values, headers ...string) *http.Response {
		return do(t, h, "POST", "/runs/bulk", v, headers...)
	}
	v := url.Values{"action": {"tag"}, "key": {"reviewed"}, "value": {"<yes>"}, "run": {ids[0], ids[2][:8]}}
	if res := post(v); res.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", res.StatusCode)
	}
	v.Set("csrf", srv.csrf)
	if res := post(v, "Origin: http://evil.example", "Sec-Fetch-Site: cross-site"); res.StatusCode != http.StatusForbidden {
		t.Errorf("from another site: %d", res.StatusCode)
	}
	bad := url.Values{"csrf": {srv.csrf}, "action": {"delete"}, "run": {ids[1], "ffffffffffff"}}
	if res := post(bad); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown id: %d, want 404", res.StatusCode)
	}
	if rec, _ := store.GetRun(ids[1]); rec.Deleted {
		t.Error("a bulk delete with an unknown id deleted the others")
	}
	res := post(v, "Accept: application/json")
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, `"runs":2`) {
		t.Fatalf("bulk tag: %d %s", res.StatusCode, body)
	}
	for i, id := range ids {
		rec, _ := store.GetRun(id)
		if got, want := rec.Tags["reviewed"], map[bool]string{true: "<yes>"}[i == 0 || i == 2]; got != want {
			t.Errorf("run %d: tag %q, want %q", i, got, want)
		}
	}
	res = post(url.Values{"csrf": {srv.csrf}, "action": {"delete"}, "run": {ids[3], ids[4]}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("bulk delete: %d", res.StatusCode)
	}
	if _, a := apiRuns(t, h, ""); a.Total != 3 {
		t.Errorf("after deleting 2 of 5: %d runs", a.Total)
	}
	for _, v := range []url.Values{{"action": {"tag"}, "run": {ids[0]}}, {"action": {"drop"}, "run": {ids[0]}}, {"action": {"delete"}}} {
		v.Set("csrf", srv.csrf)
		if res := post(v); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", v, res.StatusCode)
		}
	}
	ro := newServer(t, store, Options{ReadOnly: true})
	if res := do(t, ro.Handler(), "POST", "/runs/bulk", url.Values{"csrf": {ro.csrf}, "action": {"delete"}, "run": {ids[0]}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("read-only: %d", res.StatusCode)
	}
}

// Grouping by a param gives one row a value with the count and each metric's mean (min–max)
// over its runs, and the runs under it; the header names metrics by the schema's title with
// the key on hover.
func TestRunsTableGroups(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 12)
	h := newServer(t, store, Options{}).Handler()
	res := do(t, h, "GET", "/runs/table?"+url.Values{"group": {"params.model"}, "cols": {"1"}, "col": {"params.model", "metrics.val_bce"}}.Encode(), nil)
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	groups := regexp.MustCompile(`(?s)<tbody class="group" data-group="\d+">.*?</tbody>`).FindAllString(body, -1)
	if len(groups) != 3 || !strings.Contains(body, "12 runs in 3 groups by params.model") {
		t.Fatalf("%d groups:\n%s", len(groups), body)
	}
	// deep: i = 1, 4, 7, 10; val_bce ends at 1/(3(i+1)).
	var deep string
	for _, g := range groups {
		if strings.Contains(g, `<span class="group-value">deep</span>`) {
			deep = g
		}
	}
	vals := []float64{1.0 / 6, 1.0 / 15, 1.0 / 24, 1.0 / 33}
	mean := (vals[0] + vals[1] + vals[2] + vals[3]) / 4
	info := metricMeta(experiments.ValBCE.Name)
	for _, want := range []string{"4 runs", ">" + info.Format(mean) + `<span class="range">` + info.Format(vals[3]) + "–" + info.Format(vals[0]) + "</span>",
		fmt.Sprintf("mean of 4 runs: %v", mean)} {
		if !strings.Contains(deep, want) {
			t.Errorf("the deep group lacks %q:\n%s", want, deep)
		}
	}
	if n := strings.Count(deep, `<tr data-run=`); n != 4 || strings.Count(deep, " hidden>") != 4 {
		t.Errorf("the deep group lists %d runs (want 4, hidden until opened)", n)
	}
	if !strings.Contains(body, `title="metrics.val_bce">`+info.Title+`</a>`) {
		t.Errorf("the val_bce column is not titled %q with its key on hover", info.Title)
	}
	// Grouping by a tag; a run without it is in a group of its own, last.
	_, err := store.StartRun(tracker.RunSpec{Experiment: "web-test", Name: "untagged"})
	if err != nil {
		t.Fatal(err)
	}
	// The grouped table is kept until the store changes: the new run is in it.
	body = readBody(t, do(t, h, "GET", "/runs/table?"+url.Values{"group": {"params.model"}, "cols": {"1"}, "col": {"params.model", "metrics.val_bce"}}.Encode(), nil))
	if n := strings.Count(body, `<tbody class="group"`); n != 4 || !strings.Contains(body, "no params.model") {
		t.Errorf("by params.model after a new run without it: %d groups", n)
	}
	body = readBody(t, do(t, h, "GET", "/runs/table?group=tags.group", nil))
	if n := strings.Count(body, `<tbody class="group"`); n != 5 || !strings.Contains(body, "no tags.group") {
		t.Errorf("by tags.group: %d groups\n%s", n, body)
	}
}
