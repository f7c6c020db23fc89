package tracker

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 19, item 19: while a process holds a SQLite store open, its latest committed runs
// may be only in aelab.db-wal, so a copy of aelab.db alone misses them; Backup's copy has
// every committed run with its metrics, params and tags, and never replaces a file.
func TestBackupHasRunsStillInTheWAL(t *testing.T) {
	s := tempStore(t) // stays open, as a training process holds it
	const runs = 5
	for i := range runs {
		r := mustStart(t, s, RunSpec{Experiment: "wal", Name: "run-" + string(rune('a'+i)), Params: map[string]string{"i": string(rune('0' + i))}})
		for epoch := 1; epoch <= 3; epoch++ {
			if err := r.LogMetrics(map[string]float64{"val_bce": float64(i) + float64(epoch)/10}, int64(epoch), epoch); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Finish(StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(s.Path() + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the scenario needs committed writes still in the WAL: %v, %v", fi, err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.db")
	if b, err := os.ReadFile(s.Path()); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(plain, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := countRunsRaw(plain); n >= runs {
		t.Fatalf("the scenario needs a plain copy of aelab.db to miss runs; it has %d of %d", n, runs)
	}

	to := filepath.Join(dir, "backup.db")
	n, err := s.Backup(context.Background(), to)
	if err != nil || n != runs {
		t.Fatalf("Backup: %d runs, %v", n, err)
	}
	b, err := OpenReadOnly(to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := b.SearchRuns(Search{})
	if err != nil || len(got) != runs {
		t.Fatalf("the backup's runs: %d, %v", len(got), err)
	}
	for _, r := range got {
		h, err := b.MetricHistory(r.ID, "val_bce")
		if err != nil || len(h) != 3 || r.Status != StatusFinished {
			t.Errorf("run %s in the backup: %s, %d val_bce points, %v", r.Name, r.Status, len(h), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".backup.db") {
			t.Errorf("left behind: %s", e.Name())
		}
	}

	before, _ := os.ReadFile(to)
	if _, err := s.Backup(context.Background(), to); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Backup onto an existing file: %v, want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(to); string(after) != string(before) {
		t.Error("Backup changed the existing file")
	}
}

// countRunsRaw counts the runs of the SQLite file at path as SQLite sees it alone
// (0 when it cannot be read as a store).
func countRunsRaw(path string) int {
	db, err := sql.Open(driverName, sqliteDSN(path, "mode=ro"))
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM runs`).Scan(&n); err != nil {
		return 0
	}
	return n
}
