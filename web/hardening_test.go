package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/tracker"
)

// A ?token= redirect goes to a path on this server, never to the host a path like
// "//evil.com/" names (issue 19, item 8).
func TestTokenRedirectStaysOnThisServer(t *testing.T) {
	h := newServer(t, newStore(t), Options{Token: testToken}).Handler()
	for target, want := range map[string]string{
		"//evil.com/?token=" + testToken:              "/evil.com/",
		"///evil.com/x?a=1&token=" + testToken:        "/evil.com/x?a=1",
		"/%2F%2Fevil.com/?token=" + testToken:         "/%2F%2Fevil.com/",
		"/runs/abc?token=" + testToken + "&q=x":       "/runs/abc?q=x",
		"/?token=" + testToken:                        "/",
		"/\\evil.com/?token=" + testToken:             "/%5Cevil.com/",
		"/sweeps?q=%2F%2Fevil.com&token=" + testToken: "/sweeps?q=%2F%2Fevil.com",
	} {
		res := do(t, h, "GET", target, nil)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("GET %s: %d Location %q, want 303 to %q", target, res.StatusCode, loc, want)
		}
		if u, err := url.Parse(loc); err != nil || u.Host != "" || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
			t.Errorf("GET %s: Location %q leaves the server", target, loc)
		}
	}
}

// Error pages carry no CSRF token: not the 403 of a foreign Host, not the 401 of a missing
// token, not a 404 (issue 19, item 9). Ordinary pages still do.
func TestErrorPagesCarryNoCSRFToken(t *testing.T) {
	open := newServer(t, newStore(t), Options{})
	tokened := newServer(t, newStore(t), Options{Token: testToken})
	for _, c := range []struct {
		name string
		srv  *Server
		code int
		req  []string
		path string
	}{
		{"foreign Host", open, http.StatusForbidden, []string{"Host: evil.com"}, "/"},
		{"no token", tokened, http.StatusUnauthorized, nil, "/"},
		{"unknown run", open, http.StatusNotFound, nil, "/runs/ffffffffffff"},
	} {
		res := do(t, c.srv.Handler(), "GET", c.path, nil, c.req...)
		body := readBody(t, res)
		if res.StatusCode != c.code || strings.Contains(body, c.srv.csrf) || strings.Contains(body, "csrf-token") {
			t.Errorf("%s: %d (want %d), page holds the CSRF token: %v\n%s", c.name, res.StatusCode, c.code, strings.Contains(body, c.srv.csrf), body)
		}
	}
	if body := readBody(t, do(t, open.Handler(), "GET", "/", nil)); !strings.Contains(body, `<meta name="csrf-token" content="`+open.csrf+`">`) {
		t.Error("the runs page lost its CSRF token")
	}
}

// Paging numbers out of range are a 400 saying which and what is allowed, never a 500
// (issue 19, item 10); a page past the last is an empty page.
func TestRunsPagingOutOfRangeIsABadRequest(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 3)
	h := newServer(t, store, Options{}).Handler()
	for _, q := range []string{"page=9223372036854775807", "page=0", "page=-1", "page=1e3", "page=abc", "page=18446744073709551616",
		"size=0", "size=501", "size=-3", "limit=0", "limit=9223372036854775807", "offset=-1", "offset=9223372036854775807",
		"page=2000000001&size=1", "group=metrics.val_bce", "group=name"} {
		for _, path := range []string{"/api/runs", "/runs/table", "/", "/runs/export?format=csv&"} {
			target := path + "?" + q
			if strings.HasSuffix(path, "&") {
				target = path + q
			}
			res := do(t, h, "GET", target, nil)
			body := readBody(t, res)
			name, _, _ := strings.Cut(q, "=")
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, name+"=") {
				t.Errorf("GET %s: %d, want 400 naming %s:\n%.300s", target, res.StatusCode, name, body)
			}
		}
	}
	code, a := apiRuns(t, h, "page=1000")
	if code != http.StatusOK || len(a.Runs) != 0 || a.Total != 3 {
		t.Errorf("page past the last: %d, %d runs of %d", code, len(a.Runs), a.Total)
	}
}

// Ids shorter than 8 characters (a sweep's, a best run's, a trial's) render whole: the sweeps
// list and page do not fail (issue 19, item 11).
func TestShortIDsRender(t *testing.T) {
	for id, want := range map[string]string{"": "", "s1": "s1", "12345678": "12345678", "123456789": "12345678", "ééééééééé": "éééééééé"} {
		if got := shortID(id); got != want {
			t.Errorf("shortID(%q) = %q, want %q", id, got, want)
		}
	}
	store := newStore(t)
	srv := newServer(t, store, Options{})
	b, err := srv.pages.render("sweeps", srv.view("sweeps", "Sweeps", &sweepsView{Sweeps: []sweepSummary{{ID: "s1", Name: "short", BestRun: "r7"}}}))
	if err != nil || !strings.Contains(string(b), `<span class="id">s1</span>`) || !strings.Contains(string(b), `href="/runs/r7">r7</a>`) {
		t.Errorf("sweeps list with short ids: %v\n%s", err, b)
	}
	b, err = srv.pages.render("sweeps", srv.view("sweeps", "Sweep", &sweepsView{Sweep: &sweepDetail{
		Sweep: &tracker.Sweep{ID: "s2", Name: "short"}, Trials: []sweepTrialRow{{Index: 0, RunID: "r7", Status: "finished"}}}}))
	if err != nil || !strings.Contains(string(b), `href="/runs/r7">r7</a>`) {
		t.Errorf("sweep page with a short trial run id: %v\n%s", err, b)
	}

	spec, err := sweeps.ParseSpec("short.yaml", []byte("name: short\nmodel: vanilla\nparameters:\n  lr: [0.001]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := sweeps.Create(context.Background(), store, spec, sweeps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE sweeps SET id = 'abc' WHERE id = ?`, sw.ID); err != nil {
		t.Fatal(err)
	}
	res := do(t, srv.Handler(), "GET", "/sweeps", nil)
	if body := readBody(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, `<span class="id">abc</span>`) {
		t.Errorf("/sweeps with a sweep id of 3 characters: %d\n%s", res.StatusCode, body)
	}
}

// No number in a request, out of range or not a number at all, gives a 500 on any page or API
// that reads one (issue 19, item 10).
func TestNumbersOutOfRangeAreNeverA500(t *testing.T) {
	store := newStore(t)
	ids := logRuns(t, store, 2)
	h := newServer(t, store, Options{}).Handler()
	huge := []string{"9223372036854775807", "-9223372036854775808", "18446744073709551616", "-1", "0", "1e309", "NaN", "abc", ""}
	for _, n := range huge {
		for _, target := range []string{
			"/api/runs?page=" + n, "/api/runs?size=" + n, "/api/runs?offset=" + n, "/api/runs?limit=" + n,
			"/?page=" + n, "/runs/table?size=" + n, "/runs/export?format=json&limit=" + n,
			"/api/series?key=val_bce&run=" + ids[0] + "&points=" + n,
			"/charts?run=" + ids[0] + "&smooth=val_bce:" + n,
			"/runs/" + ids[0] + "/artifacts/" + n + "/x",
		} {
			res := do(t, h, "GET", target, nil)
			if res.StatusCode >= 500 {
				t.Errorf("GET %s: %d\n%.300s", target, res.StatusCode, readBody(t, res))
			}
		}
	}
}
