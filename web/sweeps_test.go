package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aelab/aelab/sweeps"
)

// The sweeps page lists a real sweep; its page shows the best trial, the parallel
// coordinates and every trial; its report is the sweeps package's document.
func TestSweepsPages(t *testing.T) {
	store := newStore(t)
	srv := newServer(t, store, Options{}).Handler()
	if body := readBody(t, do(t, srv, "GET", "/sweeps", nil)); !strings.Contains(body, "No sweeps in this store yet") {
		t.Errorf("empty store: %s", body)
	}
	spec, err := sweeps.ParseSpec("ui.yaml", []byte(`name: ui-<b>sweep</b>
model: vanilla
base: {epochs: 2, subset: 512, test-subset: 256}
parameters:
  lr: [0.001, 0.003]
`))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := sweeps.RunLocal(context.Background(), store, spec, sweeps.LocalOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, srv, "GET", "/sweeps", nil)
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `href="/sweeps/`+sw.ID+`"`) || !strings.Contains(body, "2 finished") ||
		strings.Contains(body, "<b>sweep") || !strings.Contains(body, "ui-&lt;b&gt;sweep") {
		t.Errorf("sweeps list: %d\n%s", res.StatusCode, body)
	}
	res = do(t, srv, "GET", "/sweeps/"+sw.ID[:8], nil)
	body = readBody(t, res)
	for _, want := range []string{"Best trial", `src="data:image/png;base64,`, "Parallel coordinates", `class="best"`, "/sweeps/" + sw.ID + "/report"} {
		if !strings.Contains(body, want) {
			t.Errorf("sweep page lacks %q", want)
		}
	}
	if !strings.Contains(body, `data-chart data-runs="`) || strings.Count(body, `data-runs="`) != 2 { // the page's and the chart's
		t.Error("sweep page: no learning curves")
	}
	runsURL := regexp.MustCompile(`<a href="(/\?q=[^"]+)">its runs</a>`).FindStringSubmatch(body)
	if runsURL == nil {
		t.Fatal("sweep page: no link to its runs")
	}
	var a runsAnswer
	json.NewDecoder(do(t, srv, "GET", "/api/runs?"+strings.TrimPrefix(html.UnescapeString(runsURL[1]), "/?"), nil).Body).Decode(&a)
	if a.Total != 2 {
		t.Errorf("its runs: %d, want the 2 trials' (%s)", a.Total, runsURL[1])
	}
	parallelURL := regexp.MustCompile(`<a href="(/parallel\?[^"]+)">Interactive parallel coordinates</a>`).FindStringSubmatch(body)
	if parallelURL == nil {
		t.Fatal("sweep page: no link to the interactive parallel coordinates")
	}
	var p parallelJSON
	json.NewDecoder(do(t, srv, "GET", "/api/"+strings.TrimPrefix(html.UnescapeString(parallelURL[1]), "/"), nil).Body).Decode(&p)
	if len(p.Runs) != 2 || len(p.Axes) != len(sw.Parameters)+1 || p.Color != len(sw.Parameters) {
		t.Errorf("its parallel coordinates: %d runs, %d axes, colour %d (%s)", len(p.Runs), len(p.Axes), p.Color, parallelURL[1])
	}
	if res.StatusCode != http.StatusOK || strings.Count(body, `<a class="id" href="/runs/`) != 2 {
		t.Errorf("sweep page: %d, trial links %d\n%s", res.StatusCode, strings.Count(body, `<a class="id" href="/runs/`), body)
	}
	res = do(t, srv, "GET", "/sweeps/"+sw.ID+"/report", nil)
	if body := readBody(t, res); res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != reportPolicy || !strings.Contains(body, "Learning curves") {
		t.Errorf("sweep report: %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if res := do(t, srv, "GET", "/sweeps/ffffffff", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown sweep: %d", res.StatusCode)
	}
}

// A sweep with queued trials makes the sweeps list and its page live (they follow the store);
// once cancelled, nothing is left to happen and they are not.
func TestSweepPagesAreLiveWhileTrialsAreToCome(t *testing.T) {
	store := newStore(t)
	h := newServer(t, store, Options{}).Handler()
	spec, err := sweeps.ParseSpec("queued.yaml", []byte("name: queued\nmodel: vanilla\nparameters:\n  lr: [0.001, 0.002]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := sweeps.Create(context.Background(), store, spec, sweeps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := regexp.MustCompile(`<div data-live-page data-runs="" data-live>`)
	for _, target := range []string{"/sweeps", "/sweeps/" + sw.ID} {
		if body := readBody(t, do(t, h, "GET", target, nil)); !live.MatchString(body) || !strings.Contains(body, "queued") {
			t.Errorf("%s with 2 queued trials: not live", target)
		}
	}
	if _, err := sweeps.Cancel(context.Background(), store, sw.ID); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/sweeps", "/sweeps/" + sw.ID} {
		if body := readBody(t, do(t, h, "GET", target, nil)); live.MatchString(body) {
			t.Errorf("%s of a cancelled sweep: still live", target)
		}
	}
}
