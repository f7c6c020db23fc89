package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/tracker"
)

// checkUIOverStore drives the API and the pages over store, which holds nothing yet, and
// checks every answer: the same test runs on SQLite and on PostgreSQL, so both stores give
// the UI the same runs, pages, counts, orders, curves, changes and files.
func checkUIOverStore(t *testing.T, store *tracker.Store) {
	ids := logRuns(t, store, 30)
	dir := filepath.Join(store.ArtifactRoot(), "checkpoints", "r0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "weights.bin"), []byte("W"), 0o644)
	os.WriteFile(filepath.Join(store.ArtifactRoot(), "elsewhere.txt"), []byte("NOT AN ARTIFACT"), 0o644)
	live, err := store.StartRun(tracker.RunSpec{Experiment: "web-test", Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	if err := live.LogArtifact("checkpoint", dir, "weights"); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, store, Options{PollInterval: 20 * time.Millisecond})
	h := srv.Handler()

	// Paging, counting, ordering and filtering in SQL.
	code, a := apiRuns(t, h, url.Values{"q": {`params.model in ("deep", "denoise") and tags.group != "3"`},
		"order": {"metrics." + chartMetric + " asc"}, "limit": {"5"}, "offset": {"5"}, "col": {"metrics." + chartMetric, "tags.group"}}.Encode())
	want := 0
	for i := range 30 {
		if i%3 != 0 && i%4 != 3 {
			want++
		}
	}
	if code != http.StatusOK || a.Total != want || len(a.Runs) != 5 {
		t.Fatalf("filtered page: %d, total %d (want %d), %d runs", code, a.Total, want, len(a.Runs))
	}
	for i := 1; i < len(a.Runs); i++ {
		if a.Runs[i].Metrics[chartMetric].Value < a.Runs[i-1].Metrics[chartMetric].Value {
			t.Errorf("not in ascending %s: %v", chartMetric, names(a))
		}
	}
	if a.Runs[0].Tags["group"] == "" || a.Runs[0].Tags["group"] == "3" {
		t.Errorf("tag column: %+v", a.Runs[0].Tags)
	}
	if code, a := apiRuns(t, h, "q="+url.QueryEscape("metrics.val_bce <")); code != http.StatusBadRequest || a.Column != 18 {
		t.Errorf("bad query: %d, column %d", code, a.Column)
	}
	if _, a := apiRuns(t, h, "q="+url.QueryEscape(`status = "RUNNING"`)); a.Total != 1 || a.Runs[0].Name != "live" {
		t.Errorf("RUNNING runs: %+v", a)
	}

	// Pages.
	for _, target := range []string{"/", "/?q=params.model+%3D+%22deep%22&col=tags.group", "/runs/" + ids[1], "/runs/" + live.ID(),
		"/compare?run=" + ids[0] + "&run=" + ids[1], "/charts?run=" + ids[0] + "," + ids[1], "/sweeps"} {
		if res := do(t, h, "GET", target, nil); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", target, res.StatusCode)
		}
	}

	// Curves.
	var c chartJSON
	json.NewDecoder(do(t, h, "GET", "/api/series?key="+chartMetric+"&run="+ids[0]+"&run="+ids[2], nil).Body).Decode(&c)
	if c.X != "epoch" || len(c.Series) != 2 || len(c.Series[1].Y) != 3 || c.Series[1].Y[2] != 1.0/3/3 {
		t.Errorf("series: %+v", c)
	}

	// Changes through the forms, read back.
	form := url.Values{"csrf": {srv.csrf}, "key": {"note"}, "value": {"kept"}}
	if res := do(t, h, "POST", "/runs/"+ids[3]+"/tags", form); res.StatusCode != http.StatusSeeOther {
		t.Errorf("set tag: %d", res.StatusCode)
	}
	if rec, _ := store.GetRun(ids[3]); rec.Tags["note"] != "kept" {
		t.Errorf("tag not stored: %v", rec.Tags)
	}
	do(t, h, "POST", "/runs/"+ids[3]+"/tags/delete", url.Values{"csrf": {srv.csrf}, "key": {"note"}})
	do(t, h, "POST", "/runs/"+ids[4]+"/delete", url.Values{"csrf": {srv.csrf}})
	if rec, _ := store.GetRun(ids[3]); rec.Tags["note"] != "" {
		t.Error("tag not removed")
	}
	if _, a := apiRuns(t, h, ""); a.Total != 30 { // 31 runs, one deleted
		t.Errorf("after a delete: %d runs, want 30", a.Total)
	}

	// Files: the artifact's, nothing else.
	if res := do(t, h, "GET", "/runs/"+live.ID()+"/artifacts/0/weights.bin", nil); res.StatusCode != http.StatusOK || readBody(t, res) != "W" {
		t.Errorf("artifact file: %d", res.StatusCode)
	}
	if res := do(t, h, "GET", "/runs/"+live.ID()+"/artifacts/0/..%2F..%2Felsewhere.txt", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a file beside the artifact: %d, want 404", res.StatusCode)
	}

	// A metric logged by the training arrives as an event.
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events?run="+live.ID(), nil)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	next := func() string {
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return v
			}
		}
		t.Fatal("the event stream ended")
		return ""
	}
	first := next()
	if err := experiments.LogEpoch(live, aelib.EpochMetrics{Epoch: 1, Step: 1, ValLoss: 0.3}); err != nil {
		t.Fatal(err)
	}
	if second := next(); second == first {
		t.Error("no change event after a metric")
	}
	live.Finish(tracker.StatusFinished, "")
}

func TestUIOverSQLite(t *testing.T) {
	checkUIOverStore(t, newStore(t))
}

// TestUIOverPostgreSQL runs the same checks on a real PostgreSQL server of the test's own.
func TestUIOverPostgreSQL(t *testing.T) {
	u := pgtest.Shared(t).NewDatabase(t)
	store, err := tracker.OpenWith(u, tracker.Options{ArtifactRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkUIOverStore(t, store)
}
