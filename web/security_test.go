package web

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/internal/testenv"
	"github.com/aelab/aelab/tracker"
)

const testToken = "0123456789abcdef-test-token"

// listenBeyondLoopback listens on every interface. A sandbox may forbid that; CI's machine does
// not, so there the tests of the token rule fail rather than vanish.
func listenBeyondLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		testenv.Missing(t, "cannot listen on 0.0.0.0 here: "+err.Error())
	}
	return ln
}

func TestServeRefusesBeyondLoopbackWithoutToken(t *testing.T) {
	srv := newServer(t, newStore(t), Options{})
	// An address beyond loopback: every interface.
	ln := listenBeyondLoopback(t)
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Serve(ctx, ln); !errors.Is(err, ErrTokenRequired) {
		t.Fatalf("Serve on %s without a token: %v, want ErrTokenRequired", ln.Addr(), err)
	}
	for addr, want := range map[string]bool{"127.0.0.1:5555": true, "[::1]:80": true, "localhost:1": true,
		"0.0.0.0:5555": false, ":5555": false, "192.168.1.2:5555": false, "example.com:80": false, "nonsense": false} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestServeWithTokenBeyondLoopback(t *testing.T) {
	srv := newServer(t, newStore(t), Options{Token: testToken})
	ln := listenBeyondLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	port := ln.Addr().(*net.TCPAddr).Port
	res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/api/keys")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestNewRefusesShortToken(t *testing.T) {
	if _, err := New(newStore(t), Options{Token: "short"}); err == nil {
		t.Fatal("a 5-character token was accepted")
	}
}

func TestTokenIsCheckedOnEveryRequest(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 1)
	h := newServer(t, store, Options{Token: testToken}).Handler()
	for _, c := range []struct {
		name    string
		target  string
		headers []string
		want    int
	}{
		{"no token", "/", nil, http.StatusUnauthorized},
		{"no token, API", "/api/runs", nil, http.StatusUnauthorized},
		{"no token, static", "/static/app.js", nil, http.StatusUnauthorized},
		{"wrong bearer", "/api/runs", []string{"Authorization: Bearer " + testToken + "x"}, http.StatusUnauthorized},
		{"wrong query", "/?token=nope", nil, http.StatusUnauthorized},
		{"the token as cookie (the cookie holds a derived value)", "/", []string{"Cookie: " + tokenCookie + "=" + testToken}, http.StatusUnauthorized},
		{"bearer", "/api/runs", []string{"Authorization: Bearer " + testToken}, http.StatusOK},
		{"query, API", "/api/runs?token=" + testToken, nil, http.StatusOK},
		{"query, page: redirect without it", "/?q=x&token=" + testToken, nil, http.StatusSeeOther},
		{"any host with the token", "/api/keys", []string{"Authorization: Bearer " + testToken, "Host: aelab.example.org"}, http.StatusOK},
	} {
		res := do(t, h, "GET", c.target, nil, c.headers...)
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
		}
		if c.want == http.StatusSeeOther {
			if loc := res.Header.Get("Location"); strings.Contains(loc, "token") || !strings.Contains(loc, "q=x") {
				t.Errorf("%s: redirects to %q, want the address without the token", c.name, loc)
			}
			var session *http.Cookie
			for _, ck := range res.Cookies() {
				if ck.Name == tokenCookie {
					session = ck
				}
			}
			if session == nil || !session.HttpOnly || session.Value == testToken {
				t.Fatalf("%s: session cookie %+v; want an HttpOnly cookie not holding the token", c.name, session)
			}
			if res := do(t, h, "GET", "/", nil, "Cookie: "+tokenCookie+"="+session.Value); res.StatusCode != http.StatusOK {
				t.Errorf("with the session cookie: %d, want 200", res.StatusCode)
			}
		}
		if c.want == http.StatusUnauthorized && strings.Contains(readBody(t, res), testToken) {
			t.Errorf("%s: the refusal shows the token", c.name)
		}
	}
}

func TestWithoutTokenOnlyLoopbackHostsAreAnswered(t *testing.T) {
	h := newServer(t, newStore(t), Options{}).Handler()
	for host, want := range map[string]int{
		"127.0.0.1:5555": http.StatusOK, "localhost:5555": http.StatusOK, "LOCALHOST": http.StatusOK,
		"[::1]:5555": http.StatusOK, "127.0.0.2:80": http.StatusOK,
		"rebind.attacker.example:5555": http.StatusForbidden, "192.168.0.10:5555": http.StatusForbidden,
		"localhost.attacker.example": http.StatusForbidden,
	} {
		if res := do(t, h, "GET", "/api/keys", nil, "Host: "+host); res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
}

func TestChangesNeedPOSTCSRFAndSameOrigin(t *testing.T) {
	store := newStore(t)
	id := logRuns(t, store, 1)[0]
	srv := newServer(t, store, Options{})
	h := srv.Handler()
	tagged := func(key string) bool {
		rec, err := store.GetRun(id)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := rec.Tags[key]
		return ok
	}
	form := func(key, csrf string) url.Values {
		v := url.Values{"key": {key}, "value": {"v"}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	for _, c := range []struct {
		name    string
		method  string
		body    url.Values
		headers []string
		want    int
	}{
		{"GET is not a change", "GET", nil, nil, http.StatusMethodNotAllowed},
		{"no CSRF token", "POST", form("a", ""), nil, http.StatusForbidden},
		{"wrong CSRF token", "POST", form("b", "0000"), nil, http.StatusForbidden},
		{"from another site", "POST", form("c", srv.csrf), []string{"Sec-Fetch-Site: cross-site"}, http.StatusForbidden},
		{"from another origin", "POST", form("d", srv.csrf), []string{"Origin: http://attacker.example"}, http.StatusForbidden},
		{"same origin, token in the form", "POST", form("e", srv.csrf), []string{"Sec-Fetch-Site: same-origin"}, http.StatusSeeOther},
		{"token in the header", "POST", url.Values{"key": {"f"}}, []string{"X-CSRF-Token: " + srv.csrf}, http.StatusSeeOther},
	} {
		key := c.body.Get("key")
		res := do(t, h, c.method, "/runs/"+id+"/tags", c.body, c.headers...)
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
		}
		if ok := c.want == http.StatusSeeOther; key != "" && tagged(key) != ok {
			t.Errorf("%s: tag %s set = %v, want %v", c.name, key, tagged(key), ok)
		}
	}
	// Delete and restore go through the same checks.
	if res := do(t, h, "POST", "/runs/"+id+"/delete", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without CSRF: %d", res.StatusCode)
	}
	if res := do(t, h, "POST", "/runs/"+id+"/delete", url.Values{"csrf": {srv.csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("delete: %d", res.StatusCode)
	}
	if rec, _ := store.GetRun(id); !rec.Deleted {
		t.Error("the run is not deleted")
	}
	do(t, h, "POST", "/runs/"+id+"/restore", url.Values{"csrf": {srv.csrf}})
	if rec, _ := store.GetRun(id); rec.Deleted {
		t.Error("the run is not restored")
	}
}

func TestReadOnlyRefusesChanges(t *testing.T) {
	store := newStore(t)
	id := logRuns(t, store, 1)[0]
	srv := newServer(t, store, Options{ReadOnly: true})
	h := srv.Handler()
	for _, path := range []string{"/tags", "/tags/delete", "/delete", "/restore"} {
		res := do(t, h, "POST", "/runs/"+id+path, url.Values{"csrf": {srv.csrf}, "key": {"group"}, "value": {"x"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("read-only POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	rec, _ := store.GetRun(id)
	if rec.Tags["group"] != "0" || rec.Deleted {
		t.Errorf("read-only server changed the run: tags %v, deleted %v", rec.Tags, rec.Deleted)
	}
	page := readBody(t, do(t, h, "GET", "/runs/"+id, nil))
	if strings.Contains(page, "<form method=\"post\"") || !strings.Contains(page, "read-only") {
		t.Error("the read-only run page shows forms, or does not say it is read-only")
	}
}

func TestSecurityHeaders(t *testing.T) {
	store := newStore(t)
	id := logRuns(t, store, 1)[0]
	h := newServer(t, store, Options{}).Handler()
	for _, target := range []string{"/", "/runs/" + id, "/charts", "/api/runs", "/static/app.js"} {
		res := do(t, h, "GET", target, nil)
		csp := res.Header.Get("Content-Security-Policy")
		if res.StatusCode != http.StatusOK || csp != pagePolicy || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: %d, CSP %q", target, res.StatusCode, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if res.Header.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", target, k, res.Header.Get(k), want)
			}
		}
	}
}

// TestReadOnlyStore: on a store opened read-only, the server is read-only whatever its
// options say, its pages work, and the store file is left byte for byte as it was.
func TestReadOnlyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aelab.db")
	rw, err := tracker.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id := logRuns(t, rw, 3)[0]
	rw.Close()
	before, _ := os.ReadFile(path)
	store, err := tracker.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := newServer(t, store, Options{})
	h := srv.Handler()
	for _, target := range []string{"/", "/runs/" + id, "/charts?run=" + id, "/api/runs", "/api/series?key=" + chartMetric + "&run=" + id} {
		if res := do(t, h, "GET", target, nil); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", target, res.StatusCode)
		}
	}
	if res := do(t, h, "POST", "/runs/"+id+"/tags", url.Values{"csrf": {srv.csrf}, "key": {"k"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST on a read-only store: %d, want 403", res.StatusCode)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the read-only store file changed")
	}
}
