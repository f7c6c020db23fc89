package web

import (
	"context"
	"net/http"
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
