package web

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/tracker"
)

// openTrained opens the store of real trainings and a server on it.
func openTrained(t *testing.T) (store *tracker.Store, srv *Server, vanilla, denoise string) {
	t.Helper()
	path, vanilla, denoise := trainedStore(t)
	store, err := tracker.OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, newServer(t, store, Options{}), vanilla, denoise
}

func TestRunPageOfARealRun(t *testing.T) {
	_, srv, vanilla, _ := openTrained(t)
	h := srv.Handler()
	body := readBody(t, do(t, h, "GET", "/runs/"+vanilla[:8], nil))
	for _, want := range []string{
		`class="badge status-finished">FINISHED`, "/runs/" + vanilla + "/reconstructions.png",
		"Metrics per epoch", metricMeta(chartMetric).Title, "env.go_version", "&#34;model&#34;: &#34;vanilla&#34;",
		"/artifacts/0/aelab-config.json", `data-runs="` + vanilla + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if res := do(t, h, "GET", "/runs/0000dead", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown run: %d, want 404", res.StatusCode)
	}
}

// TestReconstructionsFromTheCheckpoint checks the grids the server draws from the runs'
// checkpoints: two rows of 8 images for the vanilla run, three (clean, noisy, denoised) for the
// denoiser, each the same picture as package reports draws, and drawn once.
func TestReconstructionsFromTheCheckpoint(t *testing.T) {
	store, srv, vanilla, denoise := openTrained(t)
	h := srv.Handler()
	for id, rows := range map[string]int{vanilla: 2, denoise: 3} {
		res := do(t, h, "GET", "/runs/"+id+"/reconstructions.png", nil)
		b := readBody(t, res)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s: %s", id[:8], res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		img, err := png.Decode(strings.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		const cell = 28*3 + 2
		if w, hgt := img.Bounds().Dx(), img.Bounds().Dy(); w != gridImages*cell+2 || hgt != rows*cell+2 {
			t.Errorf("%s: grid %d×%d, want %d×%d (%d rows of %d)", id[:8], w, hgt, gridImages*cell+2, rows*cell+2, rows, gridImages)
		}
		rec, _ := store.GetRun(id)
		want, err := reports.ReconstructionGrid(rec, srv.mustCheckpoint(t, rec), gridImages, func(name string, n int) (*data.Split, error) {
			test, err := data.LoadTest(name)
			return test.Subset(n), err
		})
		if err != nil || !bytes.Equal(want.PNG, []byte(b)) {
			t.Errorf("%s: the server's grid differs from reports' (%v)", id[:8], err)
		}
	}
	if n := len(srv.grids.pngs.entries); n != 2 {
		t.Errorf("%d grids cached, want 2", n)
	}
	do(t, h, "GET", "/runs/"+vanilla+"/reconstructions.png", nil)
	if n := len(srv.grids.pngs.order); n != 2 {
		t.Errorf("after a second request, %d grids drawn, want still 2", n)
	}
}

func (s *Server) mustCheckpoint(t *testing.T, rec *tracker.RunRecord) string {
	t.Helper()
	for _, a := range rec.Artifacts {
		if a.Kind == "checkpoint" {
			dir, why := s.checkpointDir(a.Path)
			if dir == "" {
				t.Fatal(why)
			}
			return dir
		}
	}
	t.Fatal("no checkpoint")
	return ""
}

func TestTagsThroughTheForms(t *testing.T) {
	store, srv, vanilla, _ := openTrained(t)
	h := srv.Handler()
	post := func(path string, v url.Values) {
		t.Helper()
		v.Set("csrf", srv.csrf)
		if res := do(t, h, "POST", "/runs/"+vanilla+path, v); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/runs/"+vanilla {
			t.Fatalf("POST %s: %d → %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	post("/tags", url.Values{"key": {"web-test"}, "value": {"<kept> & shown"}})
	if rec, _ := store.GetRun(vanilla); rec.Tags["web-test"] != "<kept> & shown" {
		t.Fatalf("tag not stored: %v", rec.Tags)
	}
	if page := readBody(t, do(t, h, "GET", "/runs/"+vanilla, nil)); !strings.Contains(page, "&lt;kept&gt; &amp; shown") {
		t.Error("the tag is not on the page")
	}
	post("/tags/delete", url.Values{"key": {"web-test"}})
	if rec, _ := store.GetRun(vanilla); rec.Tags["web-test"] != "" {
		t.Fatalf("tag not removed: %v", rec.Tags)
	}
	for _, bad := range []url.Values{{"key": {""}}, {"key": {strings.Repeat("k", maxTagKeyBytes+1)}}} {
		bad.Set("csrf", srv.csrf)
		if res := do(t, h, "POST", "/runs/"+vanilla+"/tags", bad); res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad tag %q: %d, want 400", bad.Get("key")[:min(10, len(bad.Get("key")))], res.StatusCode)
		}
	}
}

func TestReportOfTheSelection(t *testing.T) {
	_, srv, vanilla, denoise := openTrained(t)
	res := do(t, srv.Handler(), "GET", "/report?run="+vanilla+"&run="+denoise[:8], nil)
	body := readBody(t, res)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != reportPolicy {
		t.Fatalf("%d, CSP %q: %s", res.StatusCode, res.Header.Get("Content-Security-Policy"), body[:min(300, len(body))])
	}
	for _, want := range []string{"2 selected runs", vanilla[:8], denoise[:8], "data:image/png;base64,"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if res := do(t, srv.Handler(), "GET", "/report", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("report of nothing: %d, want 400", res.StatusCode)
	}
}
