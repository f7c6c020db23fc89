package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// artifactFixture is a store in root/store (the artifact root) with one run whose artifacts
// are: 0, a folder inside the root holding files and links; 1, a folder recorded outside the
// root; 2, a path climbing out of it; 3, a file inside.
func artifactFixture(t *testing.T) (srv *httptest.Server, id string) {
	t.Helper()
	top := t.TempDir()
	root := filepath.Join(top, "store")
	ck := filepath.Join(root, "checkpoints", "run1")
	if err := os.MkdirAll(ck, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(top, "secret.txt")
	for name, body := range map[string]string{
		filepath.Join(ck, "weights.bin"): "WEIGHTS", filepath.Join(ck, "figure.png"): "\x89PNG fake",
		filepath.Join(ck, "page.html"): "<script>alert(1)</script>", outside: "SECRET",
		filepath.Join(root, "notes.txt"): "NOTES",
	} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(ck, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("weights.bin", filepath.Join(ck, "link-in")); err != nil {
		t.Fatal(err)
	}
	store, err := tracker.Open(filepath.Join(root, "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	run, err := store.StartRun(tracker.RunSpec{Name: "with-artifacts"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range [][2]string{{"checkpoint", ck}, {"figure", top}, {"figure", "../secret.txt"}, {"notes", filepath.Join(root, "notes.txt")}} {
		if err := run.LogArtifact(a[0], a[1], ""); err != nil {
			t.Fatal(err)
		}
	}
	run.Finish(tracker.StatusFinished, "")
	srv = httptest.NewServer(newServer(t, store, Options{}).Handler())
	t.Cleanup(srv.Close)
	return srv, run.ID()
}

func TestArtifactsAreServedOnlyFromInsideTheRoot(t *testing.T) {
	srv, id := artifactFixture(t)
	base := srv.URL + "/runs/" + id + "/artifacts/"
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		res, err := srv.Client().Get(base + path) // follows the mux's redirects to cleaned paths
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	for _, c := range []struct{ name, path string }{
		{"../ in the path", "0/../../../secret.txt"},
		{"../ to the store file", "0/../../aelab.db"},
		{"encoded ../", "0/%2e%2e/%2e%2e/%2e%2e/secret.txt"},
		{"encoded slashes", "0/..%2F..%2F..%2Fsecret.txt"},
		{"encoded absolute path", "0/%2Fetc%2Fpasswd"},
		{"absolute path", "0//etc/passwd"},
		{"backslashes", "0/..%5C..%5Csecret.txt"},
		{"a link leaving the root", "0/link-out"},
		{"an artifact recorded outside the root", "1/secret.txt"},
		{"an artifact path climbing out", "2/"},
		{"the folder itself", "0/"},
		{"no such artifact", "9/x"},
		{"a negative index", "-1/x"},
		{"no such file", "0/nope.bin"},
		{"a file artifact under another name", "3/weights.bin"},
	} {
		code, body, _ := get(c.path)
		if code != http.StatusNotFound {
			t.Errorf("%s (%s): %d, want 404", c.name, c.path, code)
		}
		if strings.Contains(body, "SECRET") || strings.Contains(body, "root:") || strings.Contains(body, "SQLite") {
			t.Errorf("%s (%s): the answer leaks a file", c.name, c.path)
		}
	}
	for _, c := range []struct{ path, body, ctype string }{
		{"0/weights.bin", "WEIGHTS", "application/octet-stream"},
		{"0/link-in", "WEIGHTS", "application/octet-stream"}, // a link that stays inside the root
		{"0/figure.png", "\x89PNG fake", "image/png"},
		{"3/", "NOTES", "text/plain; charset=utf-8"},
		{"3/notes.txt", "NOTES", "text/plain; charset=utf-8"},
	} {
		code, body, h := get(c.path)
		if code != http.StatusOK || body != c.body || h.Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d %q %q, want 200 %q %q", c.path, code, body, h.Get("Content-Type"), c.body, c.ctype)
		}
	}
	// An HTML file a run saved is a download in a sandbox: it cannot run script in the UI's origin.
	code, _, h := get("0/page.html")
	if code != http.StatusOK || h.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("page.html: %d, type %q, disposition %q, CSP %q", code, h.Get("Content-Type"), h.Get("Content-Disposition"), h.Get("Content-Security-Policy"))
	}
}

func TestRunPageListsOnlyServableArtifacts(t *testing.T) {
	srv, id := artifactFixture(t)
	res, err := srv.Client().Get(srv.URL + "/runs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	for _, want := range []string{"/artifacts/0/weights.bin", "/artifacts/0/figure.png", "/artifacts/3/notes.txt", "Outside the store"} {
		if !strings.Contains(page, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(page, "link-out") || strings.Contains(page, "/artifacts/1/") || strings.Contains(page, "/artifacts/2/") {
		t.Error("run page links a file outside the root")
	}
}
