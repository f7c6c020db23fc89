package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// pushStore makes a SQLite store at path with one finished run per name, each with a
// metric and a checkpoint folder under the store's artifact root, and returns their ids.
func pushStore(t *testing.T, path string, names ...string) []string {
	t.Helper()
	s, err := tracker.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for _, name := range names {
		r, err := s.StartRun(tracker.RunSpec{Name: name, Params: map[string]string{"lr": "0.1"}, Config: []byte(`{"model":"deep"}`)})
		if err != nil {
			t.Fatal(err)
		}
		r.LogMetric("val_bce", 0.5, 1, 1)
		ckpt := filepath.Join(s.ArtifactRoot(), "checkpoints", r.ID())
		os.MkdirAll(ckpt, 0o755)
		os.WriteFile(filepath.Join(ckpt, "weights.bin"), []byte("weights"), 0o644)
		r.LogArtifact("checkpoint", ckpt, "")
		if err := r.Finish(tracker.StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID())
	}
	return ids
}

// rawExec runs statements on the SQLite file at path, as someone with write access to it would.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// Issue #19, item 1: runs pull from a store with hostile rows says, one line each, which run it
// refused and which artifact it did not read, and copies the rest.
func TestRunsPullReportsRefusals(t *testing.T) {
	t.Setenv("AELAB_ARTIFACTS", "")
	dir := t.TempDir()
	from := filepath.Join(dir, "shared", "aelab.db")
	ids := pushStore(t, from, "evil", "dotdot", "good")
	const hostile = "../../../../../x/escaped"
	stmts := []string{`PRAGMA foreign_keys = OFF`}
	for _, table := range []string{"params", "metrics", "latest_metrics", "artifacts"} {
		stmts = append(stmts, `UPDATE `+table+` SET run_id = '`+hostile+`' WHERE run_id = '`+ids[0]+`'`)
	}
	stmts = append(stmts, `UPDATE runs SET id = '`+hostile+`' WHERE id = '`+ids[0]+`'`,
		`UPDATE artifacts SET path = '../secretdir' WHERE run_id = '`+ids[1]+`'`)
	rawExec(t, from, stmts...)

	local := filepath.Join(dir, "laptop", "aelab.db")
	code, out, stderr := runAelab(t, "runs", "pull", "--db", local, "--from", from)
	for _, want := range []string{
		"pull: 2 runs copied, 0 updated, 0 already there; 2 metric rows, 1 artifact files",
		`  refused: run "../../../../../x/escaped": its id is not a UUID; not copied` + "\n",
		`  note: artifact "../secretdir" of run ` + ids[1] + ": its path is outside the source's artifact folder; recorded without its files\n",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("pull: exit %d, want %q in\n%s%s", code, want, out, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("the pull wrote outside the local store's folder")
	}
}

// Issue #19, item 2: pushing again after edits in the target reports the conflict with what
// differs (the run's name escaped), keeps a deleted run deleted, writes nothing with
// --dry-run, and replaces the run with --overwrite.
func TestRunsPushReportsConflicts(t *testing.T) {
	t.Setenv("AELAB_ARTIFACTS", "")
	dir := t.TempDir()
	local, shared := filepath.Join(dir, "laptop", "aelab.db"), filepath.Join(dir, "shared", "aelab.db")
	ids := pushStore(t, local, "edited\x1b]0;pwned\x07", "deleted")
	code, out, stderr := runAelab(t, "runs", "push", "--db", local, "--to", shared, "--dry-run")
	if code != 0 || !strings.Contains(out, "push --dry-run: "+shared+" holds no store yet: every run would be new\n") ||
		!strings.Contains(out, "push --dry-run: would copy 2 runs, update 0, 0 already there; 2 metric rows; nothing written\n") {
		t.Errorf("dry run into no store: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(shared); err == nil {
		t.Errorf("the dry run made %s", shared)
	}
	if code, out, stderr := runAelab(t, "runs", "push", "--db", local, "--to", shared); code != 0 || !strings.Contains(out, "push: 2 runs copied") {
		t.Fatalf("first push: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runAelab(t, "runs", "delete", "--db", shared, ids[1]); code != 0 {
		t.Fatalf("delete: %s", stderr)
	}
	rawExec(t, shared, `UPDATE runs SET config = '{"model":"vanilla"}' WHERE id = '`+ids[0]+`'`,
		`UPDATE metrics SET value = 0.25 WHERE run_id = '`+ids[0]+`'`)

	conflict := "  conflict: run " + ids[0] + ` "edited\x1b]0;pwned\a" differs in metrics, config; `
	kept := "  kept deleted: run " + ids[1] + " was deleted in the target after it was copied there; it stays deleted\n"
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--dry-run"}, []string{"push --dry-run: would copy 0 runs, update 0, 0 already there; 0 metric rows; nothing written\n",
			"push: 1 conflict: a run edited in the target since the last copy (or never copied) differs from the source's\n",
			conflict + "left as it is (--overwrite replaces it with the source's)\n", kept}},
		{nil, []string{"push: 0 runs copied, 0 updated, 0 already there;", conflict + "left as it is", kept}},
		{[]string{"--overwrite"}, []string{"  2 of 2 runs: 0 copied, 1 updated, 0 already there, 0 in conflict\n",
			"push: 0 runs copied, 1 updated, 0 already there;",
			conflict + "replaced with the source's (--overwrite)\n", kept}},
		{nil, []string{"push: 0 runs copied, 0 updated, 1 already there;", kept}},
	} {
		code, out, stderr := runAelab(t, append([]string{"runs", "push", "--db", local, "--to", shared}, c.args...)...)
		for _, want := range c.want {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("push %v: exit %d, want %q in\n%s%s", c.args, code, want, out, stderr)
			}
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("push %v printed a control character: %q", c.args, out)
		}
		if c.args == nil && len(c.want) == 2 && strings.Contains(out, "conflict:") {
			t.Errorf("the conflict is still reported after --overwrite:\n%s", out)
		}
	}
	s, err := tracker.OpenWith(shared, tracker.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.GetRun(ids[0]); err != nil || string(r.Config) != `{"model":"deep"}` || r.Metrics["val_bce"] != 0.5 {
		t.Errorf("after --overwrite: %+v, %v", r, err)
	}
}
