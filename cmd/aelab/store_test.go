package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/tmpfs"
	"github.com/aelab/aelab/tracker"
	_ "github.com/mattn/go-sqlite3"
)

// Issue #10 item 3: the reading commands refuse another program's database, an
// empty file and a mistyped path with one line and exit 2, and leave them as
// they were (no aelab tables, no WAL mode, no new store).
func TestReadingCommandsNeverWrite(t *testing.T) {
	dir := t.TempDir()
	shop, shopBytes := shopDatabase(t, dir)
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	missing := filepath.Join(dir, "typo", "aelab.db")
	out := filepath.Join(dir, "report")

	reads := func(db string) [][]string {
		return [][]string{
			{"runs", "list", "--db", db}, {"runs", "show", "abc", "--db", db}, {"runs", "compare", "a", "b", "--db", db},
			{"runs", "export", "--csv", "--db", db}, {"experiments", "list", "--db", db}, {"report", "--db", db, "--out", out},
		}
	}
	for db, want := range map[string]string{
		shop:    "tracker: " + shop + " is not an aelab store: it has tables customers, orders",
		empty:   "no experiment store at " + empty + ": the file is empty (nothing tracked there yet)",
		missing: "no experiment store at " + missing + " (nothing tracked there yet; train a run or pass --db)",
	} {
		for _, args := range reads(db) {
			code, stdout, stderr := runAelab(t, args...)
			if code != 2 || !strings.HasSuffix(strings.TrimSpace(stderr), want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Errorf("%v: exit %d, stderr %q, stdout %q\nwant exit 2, one line ending %q", args, code, stderr, stdout, want)
			}
		}
	}
	if b, _ := os.ReadFile(shop); !bytes.Equal(b, shopBytes) {
		t.Error("the other program's database changed")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "empty.db,shop.db" {
		t.Errorf("folder holds %v, want only empty.db and shop.db", names)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Errorf("the empty file became %d bytes", fi.Size())
	}
}

// shopDatabase writes another program's SQLite database (tables customers and orders) into
// dir and returns its path and bytes.
func shopDatabase(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	shop := filepath.Join(dir, "shop.db")
	db, err := sql.Open("sqlite3", shop)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)`, `INSERT INTO customers VALUES (1, 'Ada')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	b, err := os.ReadFile(shop)
	if err != nil {
		t.Fatal(err)
	}
	return shop, b
}

// The commands that write runs refuse another program's database and a store of a newer
// aelab as the reading commands do: one line, exit 2, the file unchanged.
func TestWritingCommandsRefuseABadStore(t *testing.T) {
	dir := t.TempDir()
	shop, shopBytes := shopDatabase(t, dir)
	newer := filepath.Join(dir, "newer.db")
	s, err := tracker.Open(newer)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := sql.Open("sqlite3", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_version VALUES (?, 0)`, tracker.CurrentSchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	newerBytes, _ := os.ReadFile(newer)
	writes := func(db string) [][]string {
		return [][]string{
			{"train", "--model", "vanilla", "--epochs", "1", "--subset", "100", "--db", db},
			{"runs", "tag", "abc", "k=v", "--db", db}, {"runs", "delete", "abc", "--db", db},
			{"runs", "reproduce", "abc", "--db", db}, {"sweep", "cancel", "abc", "--db", db},
		}
	}
	for db, want := range map[string]string{
		shop:  "is not an aelab store: it has tables customers, orders",
		newer: fmt.Sprintf("has schema version %d, this aelab knows up to %d; upgrade aelab", tracker.CurrentSchemaVersion+1, tracker.CurrentSchemaVersion),
	} {
		for _, args := range writes(db) {
			code, stdout, stderr := runAelab(t, args...)
			if code != 2 || !strings.HasSuffix(strings.TrimSpace(stderr), want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%v: exit %d, stderr %q, stdout %q\nwant exit 2, one line ending %q", args, code, stderr, stdout, want)
			}
		}
	}
	if b, _ := os.ReadFile(shop); !bytes.Equal(b, shopBytes) {
		t.Error("the other program's database changed")
	}
	if b, _ := os.ReadFile(newer); !bytes.Equal(b, newerBytes) {
		t.Error("the newer store changed")
	}
}

// Issue #10 item 9: a store on a read-only filesystem can be listed and shown.
func TestRunsListOnReadOnlyFilesystem(t *testing.T) {
	dir := tmpfs.Mount(t, 8<<20)
	db := filepath.Join(dir, "aelab.db")
	s, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.StartRun(tracker.RunSpec{Name: "on-media", Params: map[string]string{"model": "deep"}})
	if err != nil {
		t.Fatal(err)
	}
	r.LogMetrics(map[string]float64{"val_bce": 0.125}, 1, 1)
	r.Finish(tracker.StatusFinished, "")
	s.Close()
	tmpfs.RemountReadOnly(t, dir)

	code, stdout, stderr := runAelab(t, "runs", "list", "--db", db)
	if code != 0 || !strings.Contains(stdout, "on-media") || !strings.Contains(stdout, "0.125") {
		t.Errorf("runs list: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runAelab(t, "runs", "show", r.ID()[:8], "--db", db)
	if code != 0 || !strings.Contains(stdout, "on-media") {
		t.Errorf("runs show: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A command that writes runs, pointed at a store on a read-only filesystem, says so (it said
// "unable to open database file: no such file or directory", though the file is there), and
// so does one that would create a store there.
func TestWritingCommandsOnReadOnlyFilesystem(t *testing.T) {
	dir := tmpfs.Mount(t, 8<<20)
	db := filepath.Join(dir, "aelab.db")
	s, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.StartRun(tracker.RunSpec{Name: "on-media"})
	if err != nil {
		t.Fatal(err)
	}
	r.Finish(tracker.StatusFinished, "")
	s.Close()
	tmpfs.RemountReadOnly(t, dir)
	for _, args := range [][]string{
		{"train", "--model", "vanilla", "--epochs", "1", "--subset", "100", "--db", db},
		{"train", "--model", "vanilla", "--epochs", "1", "--subset", "100", "--db", filepath.Join(dir, "new", "aelab.db")},
		{"runs", "tag", r.ID()[:8], "k=v", "--db", db},
		{"runs", "delete", r.ID()[:8], "--db", db},
	} {
		code, stdout, stderr := runAelab(t, args...)
		if code == 0 || !strings.Contains(stderr, "read-only file system") || strings.Contains(stderr, "no such file") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want one line saying: read-only file system", args, code, stderr, stdout)
		}
	}
}
