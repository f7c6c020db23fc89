package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/tracker"
)

// TestUIRefusesBadStarts: beyond loopback without a token, a weak token, two token sources,
// an empty token file, a missing store and another program's database are usage errors
// (exit 2, one line); no store is created and the other database is left byte for byte.
func TestUIRefusesBadStarts(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty-token")
	os.WriteFile(empty, []byte("\n"), 0o600)
	_, db := newTestStore(t)
	t.Setenv(uiTokenEnv, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ui", "--db", db, "--addr", "0.0.0.0:0"}, "needs a token"},
		{[]string{"ui", "--db", db, "--addr", ":0"}, "needs a token"},
		{[]string{"ui", "--db", db, "--addr", "127.0.0.1:0", "--token", "short"}, "at least 16"},
		{[]string{"ui", "--db", db, "--token", "0123456789abcdef", "--token-file", empty}, "not both"},
		{[]string{"ui", "--db", db, "--token-file", empty}, "empty"},
		{[]string{"ui", "--db", db, "--token-file", filepath.Join(dir, "nope")}, "--token-file"},
		{[]string{"ui", "--db", db, "--addr", "127.0.0.1:99999"}, "--addr"},
	} {
		code, _, stderr := runAelab(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("aelab %v: exit %d, stderr %q; want 2 and one line with %q", c.args[1:], code, stderr, c.want)
		}
		if strings.Contains(stderr, "0123456789abcdef") {
			t.Errorf("aelab %v: the token is in the message", c.args[1:])
		}
	}
	missing := filepath.Join(dir, "no-store", "aelab.db")
	shop := filepath.Join(dir, "shop.db")
	sdb, err := sql.Open("sqlite3", shop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	shopBytes, _ := os.ReadFile(shop)
	for _, readOnly := range []string{"--read-only=false", "--read-only"} {
		for db, want := range map[string]string{missing: "no experiment store", shop: "is not an aelab store: it has tables customers"} {
			code, _, stderr := runAelab(t, "ui", "--db", db, "--addr", "127.0.0.1:0", readOnly)
			if code != 2 || !strings.Contains(stderr, want) {
				t.Errorf("ui %s --db %s: exit %d, %q; want 2 and %q", readOnly, filepath.Base(db), code, stderr, want)
			}
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("aelab ui created a store folder")
	}
	if b, _ := os.ReadFile(shop); !bytes.Equal(b, shopBytes) {
		t.Error("aelab ui changed another program's database")
	}
}

// startUI runs `aelab args…` (a ui command) as a child process (this test binary, see
// TestMain) and returns the address it serves and its output, which grows while it runs. The
// server gets SIGINT at the end of the test and must stop within 10 s.
func startUI(t *testing.T, args ...string) (url string, output *syncBuffer) {
	t.Helper()
	ui := exec.Command(os.Args[0])
	ui.Env = append(os.Environ(), childEnv+"="+strings.Join(args, " "))
	output = &syncBuffer{}
	ui.Stderr = output
	out, err := ui.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ui.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- ui.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			ui.Process.Kill()
			t.Error("aelab ui did not stop on SIGINT within 10 s")
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			output.Write([]byte(sc.Text() + "\n"))
			if _, rest, ok := strings.Cut(sc.Text(), "serving "); ok {
				addr <- strings.TrimSuffix(strings.Fields(rest)[0], "/")
			}
		}
	}()
	select {
	case url = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("aelab ui did not say where it serves:\n%s", output)
	}
	return url, output
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestUIOnPostgres: `aelab ui --db postgres://…` serves the runs of a PostgreSQL store and its
// artifact root, and shows the password nowhere.
func TestUIOnPostgres(t *testing.T) {
	dbURL := pgtest.Shared(t).NewDatabase(t)
	u, _ := neturl.Parse(dbURL)
	password, _ := u.User.Password()
	artifacts := t.TempDir()
	store, err := tracker.OpenWith(dbURL, tracker.Options{ArtifactRoot: artifacts})
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.StartRun(tracker.RunSpec{Name: "on-postgres", Params: map[string]string{"model": "deep"}})
	if err != nil {
		t.Fatal(err)
	}
	experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: 1, Step: 10, ValLoss: 0.25})
	os.WriteFile(filepath.Join(artifacts, "notes.txt"), []byte("notes"), 0o644)
	run.LogArtifact("notes", filepath.Join(artifacts, "notes.txt"), "")
	run.Finish(tracker.StatusFinished, "")
	store.Close()

	base, output := startUI(t, "ui", "--db", dbURL, "--artifacts", artifacts, "--addr", "127.0.0.1:0")
	for target, want := range map[string]string{
		"/api/runs?col=metrics." + experiments.ValBCE.Name: `"name":"on-postgres"`,
		"/":                                   "on-postgres",
		"/runs/" + run.ID() + "/artifacts/0/": "notes",
		"/api/series?key=" + experiments.ValBCE.Name + "&run=" + run.ID(): `"y":[0.25]`,
	} {
		res, err := http.Get(base + target)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, want %q in:\n%.300s", target, res.StatusCode, want, b)
		}
	}
	if out := output.String(); strings.Contains(out, password) || !strings.Contains(out, "serving http://127.0.0.1:") {
		t.Errorf("output shows the password, or no address:\n%s", out)
	}
}
