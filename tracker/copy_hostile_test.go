package tracker

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Issue #19, item 1: rows from the source store are untrusted. A run whose id
// is a path (in every table, foreign keys off) is refused; artifact paths that
// leave the source's artifact folder (`..`, an absolute path, a link inside the
// folder that points out) are recorded as missing and nothing is read from
// them; links inside a copied checkpoint are not followed. Nothing is written
// outside the target's folder.
func TestCopyRefusesHostileRows(t *testing.T) {
	base := t.TempDir()
	srcRoot := filepath.Join(base, "src")
	dstRoot := filepath.Join(base, "a", "b", "c", "dst") // ../../../../../x from dstRoot/imported is base/x
	outside := filepath.Join(base, "outside")            // a local folder an attacker wants copied
	secretDir := filepath.Join(base, "secretdir")        // srcRoot/../secretdir
	for dir, files := range map[string]map[string]string{
		outside:   {"private.txt": "PRIVATE-FILE"},
		secretDir: {"key.pem": "SECRET-KEY"},
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	srcPath := filepath.Join(srcRoot, "aelab.db")
	src, err := OpenWith(srcPath, Options{ArtifactRoot: srcRoot})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range []string{"escaped", "dotdot", "absolute", "link", "good", "planted"} {
		r := mustStart(t, src, RunSpec{Experiment: "hostile", Name: name, Params: map[string]string{"model": "deep"},
			Tags: map[string]string{"note": name}})
		r.LogMetric("loss", 0.5, 1, 1)
		ckpt := filepath.Join(srcRoot, "checkpoints", r.ID())
		switch name {
		case "link": // a link inside the root that leads out of it
			os.MkdirAll(filepath.Dir(ckpt), 0o755)
			if err := os.Symlink(outside, ckpt); err != nil {
				t.Fatal(err)
			}
		case "planted": // a real checkpoint, whose place in the target is a link out, put there beforehand
			os.MkdirAll(ckpt, 0o755)
			os.WriteFile(filepath.Join(ckpt, "weights.bin"), []byte("0123456789"), 0o644)
			os.MkdirAll(filepath.Join(dstRoot, "checkpoints"), 0o755)
			if err := os.Symlink(outside, filepath.Join(dstRoot, "checkpoints", r.ID())); err != nil {
				t.Fatal(err)
			}
		case "good": // a real checkpoint, with a link to a file outside beside its weights
			os.MkdirAll(ckpt, 0o755)
			os.WriteFile(filepath.Join(ckpt, "weights.bin"), []byte("0123456789"), 0o644)
			if err := os.Symlink(filepath.Join(outside, "private.txt"), filepath.Join(ckpt, "leak")); err != nil {
				t.Fatal(err)
			}
		}
		r.LogArtifact("checkpoint", ckpt, "weights")
		if err := r.Finish(StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
		ids[name] = r.ID()
	}
	src.Close()

	// The attacker's edits, straight into the database.
	const hostileID = "../../../../../x/escaped"
	raw, err := sql.Open("sqlite3", "file:"+srcPath)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`PRAGMA foreign_keys = OFF`, nil},
		{`UPDATE runs SET id = ? WHERE id = ?`, []any{hostileID, ids["escaped"]}},
		{`UPDATE params SET run_id = ? WHERE run_id = ?`, []any{hostileID, ids["escaped"]}},
		{`UPDATE tags SET run_id = ? WHERE run_id = ?`, []any{hostileID, ids["escaped"]}},
		{`UPDATE metrics SET run_id = ? WHERE run_id = ?`, []any{hostileID, ids["escaped"]}},
		{`UPDATE latest_metrics SET run_id = ? WHERE run_id = ?`, []any{hostileID, ids["escaped"]}},
		{`UPDATE artifacts SET run_id = ?, path = '../secretdir' WHERE run_id = ?`, []any{hostileID, ids["escaped"]}},
		{`UPDATE artifacts SET path = '../secretdir' WHERE run_id = ?`, []any{ids["dotdot"]}},
		{`UPDATE artifacts SET path = ? WHERE run_id = ?`, []any{outside, ids["absolute"]}},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	raw.Close()

	src, err = OpenWith(srcPath, Options{ArtifactRoot: srcRoot, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := OpenWith(filepath.Join(dstRoot, "aelab.db"), Options{ArtifactRoot: dstRoot})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	st, err := Copy(context.Background(), dst, src, CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}

	if st.Copied != 5 || len(st.Refused) != 1 || st.Refused[0].RunID != hostileID || st.Refused[0].Reason != "its id is not a UUID" {
		t.Errorf("stats: %+v", st)
	}
	wantMissing := map[string]string{
		ids["dotdot"]:   "its path is outside the source's artifact folder",
		ids["absolute"]: "its path is outside the source's artifact folder",
		ids["link"]:     "its path leads through a link outside the source's artifact folder",
		ids["planted"]:  "its place in the target's artifact folder is a link that leads outside it",
	}
	if len(st.MissingFiles) != len(wantMissing) {
		t.Errorf("missing artifacts: %+v", st.MissingFiles)
	}
	for _, n := range st.MissingFiles {
		if wantMissing[n.RunID] != n.Reason {
			t.Errorf("artifact %q of run %s: reason %q, want %q", n.Path, n.RunID, n.Reason, wantMissing[n.RunID])
		}
	}
	if st.Files != 1 {
		t.Errorf("%d files copied, want the good run's weights alone", st.Files)
	}

	// Nothing outside the target's folder, nothing from outside the source's in it.
	allowed := []string{srcRoot, dstRoot, outside, secretDir}
	filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, root := range allowed {
			if within(root, path) {
				if within(dstRoot, path) && !strings.HasPrefix(d.Name(), "aelab.db") {
					b, _ := os.ReadFile(path)
					if strings.Contains(string(b), "PRIVATE") || strings.Contains(string(b), "SECRET") {
						t.Errorf("%s in the target holds a file from outside the source's folder", path)
					}
				}
				return nil
			}
		}
		t.Errorf("the copy wrote %s, outside the target's folder", path)
		return nil
	})
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("the copy wrote into %s through a link in the target's folder: %v", outside, entries)
	}
	if b, err := os.ReadFile(filepath.Join(dstRoot, "checkpoints", ids["good"], "weights.bin")); err != nil || string(b) != "0123456789" {
		t.Errorf("the good checkpoint: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dstRoot, "checkpoints", ids["good"], "leak")); err == nil {
		t.Error("a link inside a checkpoint was copied")
	}
	var n int
	dst.reader().queryRow(`SELECT count(*) FROM runs WHERE id = ?`, hostileID).Scan(&n)
	if n != 0 {
		t.Error("the run with a path for an id reached the target")
	}
	rows, err := dst.reader().query(`SELECT run_id, path FROM artifacts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, path string
		rows.Scan(&id, &path)
		if filepath.IsAbs(path) || !within(dstRoot, filepath.Join(dstRoot, path)) || !strings.Contains(path, id) {
			t.Errorf("run %s: artifact recorded in the target as %q", id, path)
		}
	}
}

// A run with a status aelab never writes is refused; one with a NUL byte or invalid UTF-8
// in its text is refused by a PostgreSQL target (alone: the rest of its batch is copied)
// and copied to a SQLite one, which stores such text.
func TestCopyRefusesRowsTheTargetCannotHold(t *testing.T) {
	src := tempStore(t)
	ids := map[string]string{}
	for _, name := range []string{"fine", "nul", "utf8", "status"} {
		r := mustStart(t, src, RunSpec{Name: name})
		r.LogMetric("loss", 1, 1, 1)
		must(t, r.Finish(StatusFinished, ""))
		ids[name] = r.ID()
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE runs SET name = ? WHERE id = ?`, []any{"a\x00b", ids["nul"]}},
		{`INSERT INTO tags(run_id, key, value) VALUES (?, 'k', ?)`, []any{ids["utf8"], "\xff\xfe"}},
		{`UPDATE runs SET status = 'PWNED' WHERE id = ?`, []any{ids["status"]}},
	} {
		if _, err := src.exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, to := range backends {
		t.Run("to-"+to.name, func(t *testing.T) {
			dst := to.store(t)
			st, err := Copy(context.Background(), dst, src, CopyOptions{BatchSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			want := []CopyNote{{RunID: ids["status"], Reason: "its status is not one aelab writes"}}
			copied := 3
			if to.name == "postgres" {
				want = []CopyNote{
					{RunID: ids["nul"], Reason: "a text of its name holds a NUL byte or invalid UTF-8, which PostgreSQL cannot store"},
					{RunID: ids["utf8"], Reason: "a text of its tags holds a NUL byte or invalid UTF-8, which PostgreSQL cannot store"},
					want[0],
				}
				copied = 1
			}
			slices.SortFunc(st.Refused, func(a, b CopyNote) int { return strings.Compare(a.Reason, b.Reason) })
			slices.SortFunc(want, func(a, b CopyNote) int { return strings.Compare(a.Reason, b.Reason) })
			if st.Copied != copied || !reflect.DeepEqual(st.Refused, want) {
				t.Errorf("copy: %+v, want refused %+v", st, want)
			}
			if _, err := dst.GetRun(ids["fine"]); err != nil {
				t.Errorf("the run beside the refused ones: %v", err)
			}
		})
	}
}
