package tracker

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/tmpfs"
	_ "github.com/mattn/go-sqlite3" // the plain driver, as another program would use it
)

// foreignDB writes a SQLite database another program could have made, with the
// given statements, in journal mode mode, and returns its path.
func foreignDB(t *testing.T, mode string, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode="+mode)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// folderSnapshot is every file in dir with its bytes.
func folderSnapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sameSnapshot(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// openers are the three ways to open a store by path.
var openers = []struct {
	name string
	open func(string) (*Store, error)
}{{"Open", Open}, {"OpenExisting", OpenExisting}, {"OpenReadOnly", OpenReadOnly}}

// Issue #10 item 3: every open refuses another program's database before
// anything could write to it, and leaves its folder byte-for-byte as it was.
func TestForeignDatabaseRefusedUnchanged(t *testing.T) {
	cases := []struct {
		name, path, want string
	}{
		{"shop", foreignDB(t, "DELETE",
			`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)`,
			`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, total REAL)`,
			`INSERT INTO customers VALUES (1, 'Ada')`),
			"is not an aelab store: it has tables customers, orders"},
		{"mlflow", foreignDB(t, "WAL",
			`CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)`,
			`CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256) UNIQUE)`,
			`CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY, experiment_id INTEGER)`,
			`CREATE TABLE metrics (key VARCHAR(250), value FLOAT, run_uuid VARCHAR(32))`,
			`CREATE TABLE params (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32))`,
			`CREATE TABLE tags (key VARCHAR(250), value VARCHAR(8000), run_uuid VARCHAR(32))`,
			`CREATE TABLE latest_metrics (key VARCHAR(250), value FLOAT, run_uuid VARCHAR(32))`,
			`CREATE TABLE registered_models (name VARCHAR(256) PRIMARY KEY)`),
			"is not an aelab store: it has tables alembic_version, experiments, latest_metrics, metrics, params, registered_models, …"},
		{"flyway", foreignDB(t, "DELETE", // a schema_version table that is not aelab's
			`CREATE TABLE schema_version (installed_rank INT, version VARCHAR(50), description TEXT)`),
			"is not an aelab store: it has tables schema_version"},
	}
	text := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(text, []byte("these are my notes, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct{ name, path, want string }{"text", text, "is not an aelab store: it is not a SQLite database"})

	for _, c := range cases {
		before := folderSnapshot(t, filepath.Dir(c.path))
		for _, o := range openers {
			s, err := o.open(c.path)
			if err == nil {
				s.Close()
				t.Errorf("%s %s: opened", c.name, o.name)
				continue
			}
			if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), c.path+" "+c.want) {
				t.Errorf("%s %s: err = %v\nwant …%s %s", c.name, o.name, err, c.path, c.want)
			}
			if after := folderSnapshot(t, filepath.Dir(c.path)); !sameSnapshot(before, after) {
				t.Errorf("%s %s changed the folder: %d files before, %d after", c.name, o.name, len(before), len(after))
			}
		}
	}
}

// Issue #10 item 3: reading opens neither create nor adopt; writing opens make
// a store only at a new path or of an empty file.
func TestEmptyAndMissingPaths(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo", "aelab.db")
	for _, o := range openers[1:] {
		_, err := o.open(missing)
		want := "no experiment store at " + missing + " (nothing tracked there yet; train a run or pass --db)"
		if !errors.Is(err, ErrNoStore) || err.Error() != want {
			t.Errorf("%s(missing): %v\nwant %s", o.name, err, want)
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("a reading open created the folder")
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range openers[1:] {
		if _, err := o.open(empty); !errors.Is(err, ErrNoStore) || !strings.Contains(err.Error(), "the file is empty") {
			t.Errorf("%s(empty file): %v", o.name, err)
		}
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 || len(folderSnapshot(t, dir)) != 1 {
		t.Fatalf("reading opens changed the empty file (%d bytes) or its folder", fi.Size())
	}
	s, err := Open(empty)
	if err != nil {
		t.Fatalf("Open(empty file): %v", err)
	}
	mustStart(t, s, RunSpec{}).Finish(StatusFinished, "")
	s.Close()
	r, err := OpenReadOnly(empty)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if runs, err := r.SearchRuns(Search{}); err != nil || len(runs) != 1 {
		t.Errorf("adopted file: %d runs, %v", len(runs), err)
	}
}

// A store holds other programs' tables beside its own (River's job queue will):
// it is still a store.
func TestStoreWithOtherTablesOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aelab.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustStart(t, s, RunSpec{Name: "kept"}).Finish(StatusFinished, "")
	if _, err := s.w.Exec(`CREATE TABLE river_job (id INTEGER PRIMARY KEY, kind TEXT)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, o := range openers {
		s, err := o.open(path)
		if err != nil {
			t.Errorf("%s: %v", o.name, err)
			continue
		}
		if runs, err := s.SearchRuns(Search{}); err != nil || len(runs) != 1 || runs[0].Name != "kept" {
			t.Errorf("%s: %d runs, %v", o.name, len(runs), err)
		}
		s.Close()
	}
}

// A store written by a newer aelab is refused by every open, unchanged.
func TestNewerStoreRefusedUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_version VALUES (?, 0)`, CurrentSchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Remove(path + "-reserve")
	before := folderSnapshot(t, filepath.Dir(path))
	want := fmt.Sprintf("tracker: store %s has schema version %d, this aelab knows up to %d; upgrade aelab", path, CurrentSchemaVersion+1, CurrentSchemaVersion)
	for _, o := range openers {
		if _, err := o.open(path); !errors.Is(err, ErrNewerSchema) || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", o.name, err, want)
		}
	}
	if !sameSnapshot(before, folderSnapshot(t, filepath.Dir(path))) {
		t.Error("refusing the newer store changed its folder")
	}
}

// An older store is upgraded by writing opens only; a reading open says how to upgrade it.
func TestReadOnlyOpenOfOlderStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := openSQLite(path, Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	before, _ := os.ReadFile(path)
	_, err = OpenReadOnly(path)
	if err == nil || !strings.Contains(err.Error(), "has schema version 1 and this aelab reads version") {
		t.Fatalf("err = %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the reading open changed the older store")
	}
}

// killedRunStore makes a store holding one RUNNING run whose process was killed,
// and returns its path, the run id and the dead process's pid.
func killedRunStore(t *testing.T, dir string) (path, id string, pid int) {
	t.Helper()
	path = filepath.Join(dir, "kill.db")
	id, pid = startAndKill(t, path, nil)
	return path, id, pid
}

// startAndKill runs the logAndHang helper on the store at path (with extra
// environment), kills it once it has logged, and returns the run id and pid.
func startAndKill(t *testing.T, path string, env []string) (id string, pid int) {
	t.Helper()
	c, id := startHelper(t, path, env)
	c.Process.Kill()
	c.Wait() // reaped: its pid is gone
	return id, c.Process.Pid
}

// startHelper runs the logAndHang helper on the store at path (with extra
// environment) and returns it, with its run's id, once the run has logged two
// epochs. The test kills it; it is killed at the end anyway.
func startHelper(t *testing.T, path string, env []string) (*exec.Cmd, string) {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(append(os.Environ(), helperEnv+"=logAndHang", "AELAB_TRACKER_TEST_DB="+path), env...)
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if !strings.HasPrefix(line, "ready ") {
		c.Process.Kill()
		c.Wait()
		t.Fatalf("helper said %q; stderr: %s", line, stderr.String())
	}
	return c, strings.TrimSpace(strings.TrimPrefix(line, "ready "))
}

// Issue #10 item 3: a reading open reports a dead run LOST without writing it,
// and refuses every write.
func TestReadOnlyOpenWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path, id, pid := killedRunStore(t, dir)
	// The killed process left its WAL: fold it in, as the next clean close would.
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	raw.Close()
	before, _ := os.ReadFile(path)

	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.GetRun(id)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("process %d on ", pid)
	if r.Status != StatusLost || !strings.HasPrefix(r.Error, want) {
		t.Errorf("status %s %q, want LOST %q…", r.Status, r.Error, want)
	}
	for filter, n := range map[string]int{"status = 'LOST'": 1, "status = 'RUNNING'": 0} {
		if runs, err := s.SearchRuns(Search{Filter: filter}); err != nil || len(runs) != n {
			t.Errorf("%s: %d runs, %v", filter, len(runs), err)
		}
	}
	if runs, err := s.SearchRuns(Search{OrderBy: "status desc"}); err != nil || len(runs) != 1 || runs[0].Status != StatusLost {
		t.Errorf("ordered by status: %v %v", runs, err)
	}
	writes := map[string]error{
		"SetTag":    s.SetTag(id, "k", "v"),
		"DeleteRun": s.DeleteRun(id),
	}
	_, writes["StartRun"] = s.StartRun(RunSpec{})
	for name, err := range writes {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only store: %v", name, err)
		}
	}
	s.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the reading open changed the store file")
	}
	var stored string
	raw, _ = sql.Open("sqlite3", "file:"+path+"?mode=ro")
	defer raw.Close()
	if err := raw.QueryRow(`SELECT status FROM runs WHERE id = ?`, id).Scan(&stored); err != nil || stored != "RUNNING" {
		t.Errorf("stored status %q, %v; want RUNNING (nothing written)", stored, err)
	}
}

// Issue #10 item 9: a store on a read-only filesystem can be listed and shown.
func TestReadOnlyFilesystem(t *testing.T) {
	dir := tmpfs.Mount(t, 8<<20)
	path, lostID, _ := killedRunStore(t, dir)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := mustStart(t, s, RunSpec{Name: "done", Params: map[string]string{"model": "deep"}})
	r.LogMetrics(map[string]float64{"val_bce": 0.1}, 1, 1)
	r.Finish(StatusFinished, "")
	s.Close()
	tmpfs.RemountReadOnly(t, dir)
	before := folderSnapshot(t, dir)

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatalf("OpenReadOnly on a read-only filesystem: %v", err)
	}
	defer ro.Close()
	runs, err := ro.SearchRuns(Search{Filter: `params.model = "deep" or status = "lost"`})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, r := range runs {
		got[r.ID] = r.Status
	}
	if len(runs) != 2 || got[r.ID()] != StatusFinished || got[lostID] != StatusLost {
		t.Errorf("runs %v", got)
	}
	if h, err := ro.MetricHistory(r.ID(), "val_bce"); err != nil || len(h) != 1 {
		t.Errorf("history %v %v", h, err)
	}
	if _, err := Open(path); err == nil {
		t.Error("a writing open succeeded on a read-only filesystem")
	}
	if !sameSnapshot(before, folderSnapshot(t, dir)) {
		t.Error("the read-only filesystem changed") // cannot happen; says the mount did not hold
	}
}
