package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/pglocal"
	"github.com/aelab/aelab/internal/testenv"
	"github.com/aelab/aelab/tracker"
)

// clusterParent is a folder for `aelab db start` tests that the server's user
// (postgres, under root) can get through; the clusters in it are removed at the end.
func clusterParent(t *testing.T) string {
	t.Helper()
	_, err := pglocal.Binaries()
	testenv.Need(t, err, "PostgreSQL's server (make setup installs it)")
	parent, err := os.MkdirTemp("", "aelab-dbtest-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	t.Cleanup(func() {
		dirs, _ := filepath.Glob(filepath.Join(parent, "*", "cluster.json"))
		more, _ := filepath.Glob(filepath.Join(parent, "*", "*", "cluster.json"))
		for _, f := range append(dirs, more...) {
			if c, err := pglocal.Load(filepath.Dir(f)); err == nil {
				c.Remove()
			}
		}
		os.RemoveAll(parent)
	})
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "pgpass"))
	return parent
}

// busyPort is a loopback port another program listens on for the rest of the test.
func busyPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// freeTCPPort is a loopback port nobody listens on right now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Issue 19, item 3: `aelab db start|stop|status --dir` with a relative folder name the
// folder the working directory names at the time: a first start with a relative folder
// works; the server started by its absolute path is seen and stopped through a relative
// one from its parent; a first start that fails leaves no half-made folder behind.
func TestDBRelativeDir(t *testing.T) {
	parent := clusterParent(t)
	t.Chdir(parent)
	if code, out, stderr := runAelab(t, "db", "start", "--dir", "pgrel"); code != 0 || !strings.Contains(out, "serving on port") {
		t.Fatalf("first start with a relative dir: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := pglocal.Load(filepath.Join(parent, "pgrel")); err != nil {
		t.Fatalf("the cluster is not in %s: %v", filepath.Join(parent, "pgrel"), err)
	}
	if code, out, stderr := runAelab(t, "db", "stop", "--dir", "pgrel"); code != 0 || !strings.Contains(out, "stopped the server") {
		t.Fatalf("stop: exit %d\n%s%s", code, out, stderr)
	}

	abs := filepath.Join(parent, "pgc")
	t.Chdir("/")
	if code, out, stderr := runAelab(t, "db", "start", "--dir", abs); code != 0 {
		t.Fatalf("start --dir %s: exit %d\n%s%s", abs, code, out, stderr)
	}
	t.Chdir(parent)
	if _, out, _ := runAelab(t, "db", "status", "--dir", "pgc"); !strings.Contains(out, "running, port") || !strings.Contains(out, "data in "+abs+"\n") {
		t.Errorf("status --dir pgc from its parent:\n%s", out)
	}
	if code, out, _ := runAelab(t, "db", "stop", "--dir", "pgc"); code != 0 || !strings.Contains(out, "stopped the server in "+abs) {
		t.Errorf("stop --dir pgc from its parent: exit %d\n%s", code, out)
	}
	c, err := pglocal.Load(abs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Running() {
		t.Errorf("the server in %s still runs after stop --dir pgc", abs)
	}
	if _, out, _ := runAelab(t, "db", "status", "--dir", "pgc"); !strings.Contains(out, "stopped (aelab db start starts it)") {
		t.Errorf("status after stop:\n%s", out)
	}
	if code, out, stderr := runAelab(t, "db", "start", "--dir", "pgc"); code != 0 || !strings.Contains(out, "serving on port") {
		t.Errorf("start --dir pgc again: exit %d\n%s%s", code, out, stderr)
	}

	port := busyPort(t)
	code, out, stderr := runAelab(t, "db", "start", "--dir", "made/pgfail", "--port", fmt.Sprint(port))
	if code == 0 {
		t.Fatalf("first start on a busy port: exit 0\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(parent, "made")); !os.IsNotExist(err) {
		entries, _ := filepath.Glob(filepath.Join(parent, "made", "*", "*"))
		t.Errorf("a failed first start left %s (%v): %v\n%s", filepath.Join(parent, "made"), err, entries, stderr)
	}
}

// Issue 19, item 4: `aelab db start` adds its line to a password file whose last line has
// no newline on a line of its own, leaves the other lines as they were, and keeps the file
// private.
func TestDBPasswordFileWithoutNewline(t *testing.T) {
	parent := clusterParent(t)
	pgpass := os.Getenv("PGPASSFILE")
	bob := "otherhost:5432:*:bob:bobsecret"
	if err := os.WriteFile(pgpass, []byte(bob), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "pg")
	if code, out, stderr := runAelab(t, "db", "start", "--dir", dir); code != 0 {
		t.Fatalf("db start: exit %d\n%s%s", code, out, stderr)
	}
	c, err := pglocal.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s\n127.0.0.1:%d:*:aelab:%s\n", bob, c.Port, c.Password())
	check := func(when string) {
		b, err := os.ReadFile(pgpass)
		if err != nil || string(b) != want {
			t.Errorf("%s: password file %q (%v), want %q", when, b, err, want)
		}
		if fi, err := os.Stat(pgpass); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: password file mode %v (%v), want 0600", when, fi.Mode().Perm(), err)
		}
	}
	check("after the first start")
	if code, out, stderr := runAelab(t, "db", "start", "--dir", dir); code != 0 || !strings.Contains(out, "already running") {
		t.Fatalf("second start: exit %d\n%s%s", code, out, stderr)
	}
	check("after the second start")
}

// Issue 19, item 16: a first start on a busy port leaves nothing that pins the folder to
// that port, so the next start's --port applies; a server made before moves to a new
// --port when stopped, keeps its port when the move fails, and refuses to move while it
// runs.
func TestDBStartPort(t *testing.T) {
	parent := clusterParent(t)
	dir := filepath.Join(parent, "pg")
	busy := busyPort(t)
	code, out, stderr := runAelab(t, "db", "start", "--dir", dir, "--port", fmt.Sprint(busy))
	wantBusy := fmt.Sprintf(": the server cannot listen on 127.0.0.1 port %d: another program uses it (choose another port)\n", busy)
	if code != 1 || !strings.HasSuffix(stderr, wantBusy) || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("first start on busy port %d: exit %d\n%s%s\nwant exit 1, one line ending %q", busy, code, out, stderr, wantBusy)
	}
	port := freeTCPPort(t)
	code, out, stderr = runAelab(t, "db", "start", "--dir", dir, "--port", fmt.Sprint(port))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("serving on port %d ", port)) {
		t.Fatalf("start --port %d after the failed one: exit %d\n%s%s", port, code, out, stderr)
	}

	other := freeTCPPort(t)
	code, _, stderr = runAelab(t, "db", "start", "--dir", dir, "--port", fmt.Sprint(other))
	wantRefusal := fmt.Sprintf(": the server in %s is running on port %d; to move it to port %d, stop it first (aelab db stop --dir %s)\n", dir, port, other, dir)
	if code != 2 || !strings.HasSuffix(stderr, wantRefusal) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("--port %d while running on %d: exit %d\n%s\nwant exit 2\n%s", other, port, code, stderr, wantRefusal)
	}
	code, _, stderr = runAelab(t, "db", "start", "--dir", dir, "--listen", "0.0.0.0")
	if want := fmt.Sprintf(": the server in %s listens on 127.0.0.1, as its first start said; another address needs another server (--dir)\n", dir); code != 2 || !strings.HasSuffix(stderr, want) {
		t.Errorf("--listen 0.0.0.0 on a server made for 127.0.0.1: exit %d %q, want exit 2 …%q", code, stderr, want)
	}
	if code, out, _ := runAelab(t, "db", "stop", "--dir", dir); code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}
	if code, out, _ := runAelab(t, "db", "start", "--dir", dir, "--port", fmt.Sprint(busy)); code == 0 {
		t.Fatalf("start on busy port %d: exit 0\n%s", busy, out)
	}
	if _, out, _ := runAelab(t, "db", "status", "--dir", dir); !strings.Contains(out, fmt.Sprintf("stopped (aelab db start starts it), port %d,", port)) {
		t.Errorf("status after a failed move to busy port %d:\n%s", busy, out)
	}
	code, out, stderr = runAelab(t, "db", "start", "--dir", dir, "--port", fmt.Sprint(other))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("moving the server in %s from port %d to port %d\n", dir, port, other)) ||
		!strings.Contains(out, fmt.Sprintf("serving on port %d ", other)) {
		t.Fatalf("start --port %d on the stopped server: exit %d\n%s%s", other, code, out, stderr)
	}
	if _, out, _ := runAelab(t, "db", "status", "--dir", dir); !strings.Contains(out, fmt.Sprintf("running, port %d,", other)) {
		t.Errorf("status after the move:\n%s", out)
	}
}

// Issue 19, item 19: `aelab db backup --to FILE` copies a SQLite store that another
// process holds open, with the runs still in its WAL; it never replaces a file; for a
// PostgreSQL store it names pg_dump in one line, without the password.
func TestDBBackup(t *testing.T) {
	s, db := newTestStore(t) // stays open until the end, as a training process holds it
	defer s.Close()
	for i := range 3 {
		r, err := s.StartRun(tracker.RunSpec{Name: fmt.Sprintf("held-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.LogMetrics(map[string]float64{"val_bce": 0.1 * float64(i+1)}, 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(tracker.StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(db + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the scenario needs committed runs still in the WAL: %v, %v", fi, err)
	}
	to := filepath.Join(t.TempDir(), "copy.db")
	code, out, stderr := runAelab(t, "db", "backup", "--db", db, "--to", to)
	if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("aelab db: backed up %s to %s (3 runs;", db, to)) {
		t.Fatalf("db backup: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr := runAelab(t, "runs", "list", "--db", to); code != 0 || strings.Count(out, "held-") != 3 {
		t.Errorf("runs list of the copy: exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = runAelab(t, "db", "backup", "--db", db, "--to", to)
	if want := ": --to " + to + ": the file exists; name a new one\n"; code != 2 || !strings.HasSuffix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("backup onto the copy: exit %d %q, want exit 2 %q", code, stderr, want)
	}
	pg := "postgres://aelab:s3cret-pw@127.0.0.1:1/aelab"
	code, _, stderr = runAelab(t, "db", "backup", "--db", pg, "--to", filepath.Join(t.TempDir(), "pg.db"))
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "pg_dump") || strings.Contains(stderr, "s3cret-pw") {
		t.Errorf("backup of a PostgreSQL store: exit %d %q", code, stderr)
	}
}
