package tracker

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// conflictPair opens a SQLite source with three finished runs (a, b, c) and a
// target of kind to, and copies the source into it once.
func conflictPair(t *testing.T, to backend) (src, dst *Store, ids map[string]string) {
	t.Helper()
	var err error
	if src, err = OpenWith(sqliteBackend.newLocation(t), Options{ArtifactRoot: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if dst, err = OpenWith(to.newLocation(t), Options{ArtifactRoot: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	ids = map[string]string{}
	for _, name := range []string{"a", "b", "c"} {
		r := mustStart(t, src, RunSpec{Name: name, Params: map[string]string{"lr": "0.01"},
			Tags: map[string]string{"note": name}, Config: []byte(`{"model":"deep"}`)})
		for epoch := 1; epoch <= 3; epoch++ {
			r.LogMetric("val_bce", 1/float64(epoch), int64(epoch), epoch)
		}
		if err := r.Finish(StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
		ids[name] = r.ID()
	}
	if st, err := Copy(context.Background(), dst, src, CopyOptions{}); err != nil || st.Copied != 3 {
		t.Fatalf("first copy: %+v, %v", st, err)
	}
	return src, dst, ids
}

func strp(s string) *string { return &s }

// Issue #19, item 2: a tag set and a run deleted in the target survive the next
// copy; a tag changed on both sides keeps the target's value and says so; a
// change in the source alone is copied, merged with the target's tags.
func TestCopyKeepsTargetEdits(t *testing.T) {
	for _, to := range []backend{sqliteBackend, postgresBackend} {
		t.Run("sqlite-to-"+to.name, func(t *testing.T) {
			ctx := context.Background()
			src, dst, ids := conflictPair(t, to)
			must(t, dst.SetTag(ids["a"], "reviewed", "yes"))
			must(t, dst.DeleteRun(ids["b"]))
			must(t, dst.SetTag(ids["c"], "note", "from-target"))
			must(t, src.SetTag(ids["c"], "note", "from-source"))

			st, err := Copy(ctx, dst, src, CopyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantTags := []CopyTagNote{
				{RunID: ids["c"], Key: "note", Target: strp("from-target"), Source: strp("from-source")},
				{RunID: ids["a"], Key: "reviewed", Target: strp("yes")},
			}
			if st.Copied != 0 || st.Updated != 0 || st.Unchanged != 2 || len(st.Conflicts) != 0 ||
				!reflect.DeepEqual(st.KeptDeleted, []string{ids["b"]}) || !reflect.DeepEqual(sortTagNotes(st.TagsKept), wantTags) {
				t.Errorf("second copy: %+v", st)
			}
			a, _ := dst.GetRun(ids["a"])
			if a.Tags["reviewed"] != "yes" {
				t.Errorf("the target's tag is gone: %v", a.Tags)
			}
			if b, err := dst.GetRun(ids["b"]); err != nil || !b.Deleted {
				t.Errorf("the run deleted in the target came back: %+v, %v", b, err)
			}
			if c, _ := dst.GetRun(ids["c"]); c.Tags["note"] != "from-target" {
				t.Errorf("tag changed on both sides: %v", c.Tags)
			}

			// A change in the source alone is copied; the target's own tag stays.
			must(t, src.SetTag(ids["a"], "note", "renamed"))
			st, err = Copy(ctx, dst, src, CopyOptions{})
			if err != nil || st.Updated != 1 || len(st.TagsKept)+len(st.Conflicts) != 0 || len(st.KeptDeleted) != 1 {
				t.Errorf("copy of a source change: %+v, %v", st, err)
			}
			a, _ = dst.GetRun(ids["a"])
			if !reflect.DeepEqual(a.Tags, map[string]string{"note": "renamed", "reviewed": "yes"}) {
				t.Errorf("merged tags: %v", a.Tags)
			}
			if st, err = Copy(ctx, dst, src, CopyOptions{}); err != nil || st.Unchanged != 2 || st.Updated != 0 {
				t.Errorf("copy with nothing new: %+v, %v", st, err)
			}
		})
	}
}

// Issue #19, item 2: a metric value and the config edited in the target are a
// conflict, reported with what differs and left alone; --dry-run says so and
// writes nothing; Overwrite replaces the run with the source's.
func TestCopyReportsConflicts(t *testing.T) {
	for _, to := range []backend{sqliteBackend, postgresBackend} {
		t.Run("sqlite-to-"+to.name, func(t *testing.T) {
			ctx := context.Background()
			src, dst, ids := conflictPair(t, to)
			if _, err := dst.exec(`UPDATE metrics SET value = 0.99 WHERE run_id = ? AND step = 2`, ids["a"]); err != nil {
				t.Fatal(err)
			}
			if _, err := dst.exec(`UPDATE runs SET config = '{"model":"edited"}' WHERE id = ?`, ids["a"]); err != nil {
				t.Fatal(err)
			}
			must(t, dst.SetTag(ids["b"], "x", "1")) // the target's tags alone: no conflict
			must(t, src.SetTag(ids["c"], "y", "2")) // the source changed: copied
			before, _ := dst.MetricHistories(ids["a"])
			want := []CopyConflict{{RunID: ids["a"], Name: "a", Fields: []string{"metrics", "config"}}}

			dry, err := Copy(ctx, dst, src, CopyOptions{DryRun: true})
			if err != nil || !reflect.DeepEqual(dry.Conflicts, want) || dry.Updated != 1 || dry.Unchanged != 1 {
				t.Errorf("dry run: %+v, %v", dry, err)
			}
			if c, _ := dst.GetRun(ids["c"]); c.Tags["y"] != "" {
				t.Error("the dry run wrote the source's change")
			}

			st, err := Copy(ctx, dst, src, CopyOptions{})
			if err != nil || !reflect.DeepEqual(st.Conflicts, want) || st.Updated != 1 || st.Unchanged != 1 {
				t.Errorf("copy: %+v, %v", st, err)
			}
			after, _ := dst.MetricHistories(ids["a"])
			if !reflect.DeepEqual(before, after) || after["val_bce"][1].Value != 0.99 {
				t.Errorf("the conflicting run was overwritten: %v", after)
			}
			if c, _ := dst.GetRun(ids["c"]); c.Tags["y"] != "2" {
				t.Errorf("the source's change was not copied: %v", c.Tags)
			}
			// Reported again until resolved.
			if st, _ = Copy(ctx, dst, src, CopyOptions{}); len(st.Conflicts) != 1 {
				t.Errorf("the conflict was forgotten: %+v", st)
			}

			st, err = Copy(ctx, dst, src, CopyOptions{Overwrite: true})
			want[0].Overwritten = true
			if err != nil || !reflect.DeepEqual(st.Conflicts, want) || st.Updated != 1 {
				t.Errorf("copy with Overwrite: %+v, %v", st, err)
			}
			sameRun(t, dst, src, ids["a"])
			if st, err = Copy(ctx, dst, src, CopyOptions{}); err != nil || len(st.Conflicts) != 0 || st.Unchanged != 3 {
				t.Errorf("copy after Overwrite: %+v, %v", st, err)
			}
		})
	}
}

// A dry run into an empty target counts the runs it would copy and writes no
// row and no file.
func TestCopyDryRunWritesNothing(t *testing.T) {
	src, err := OpenWith(sqliteBackend.newLocation(t), Options{ArtifactRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := OpenWith(sqliteBackend.newLocation(t), Options{ArtifactRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	copySource(t, src)
	st, err := Copy(context.Background(), dst, src, CopyOptions{DryRun: true})
	if err != nil || st.Copied != 3 || st.Metrics != 18 || st.Files != 0 {
		t.Errorf("dry run: %+v, %v", st, err)
	}
	var runs, marks int
	dst.reader().queryRow(`SELECT count(*) FROM runs`).Scan(&runs)
	dst.reader().queryRow(`SELECT count(*) FROM copy_marks`).Scan(&marks)
	if runs+marks != 0 {
		t.Errorf("the dry run wrote %d runs and %d marks", runs, marks)
	}
	if entries, err := os.ReadDir(dst.ArtifactRoot()); err != nil || len(entries) > 0 {
		t.Errorf("the dry run wrote into the artifact folder: %v, %v", entries, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sortTagNotes orders notes by key.
func sortTagNotes(n []CopyTagNote) []CopyTagNote {
	slices.SortFunc(n, func(a, b CopyTagNote) int { return strings.Compare(a.Key, b.Key) })
	return n
}

// A RUNNING run copied with its status and then marked LOST by the target's store (its
// heartbeat stops coming there) is no edit: the source's end of the run is copied over it.
func TestCopyOverRunMarkedLost(t *testing.T) {
	ctx := context.Background()
	src, dst := tempStore(t), tempStore(t)
	r := mustStart(t, src, RunSpec{Name: "long"})
	r.LogMetric("loss", 1, 1, 1)
	if st, err := Copy(ctx, dst, src, CopyOptions{Running: true}); err != nil || st.Copied != 1 {
		t.Fatalf("copy of the running run: %+v, %v", st, err)
	}
	if _, err := dst.exec(`UPDATE runs SET status = 'LOST', error = 'no heartbeat', end_time = heartbeat WHERE id = ?`, r.ID()); err != nil {
		t.Fatal(err)
	}
	r.LogMetric("loss", 0.5, 2, 2)
	must(t, r.Finish(StatusFinished, ""))
	st, err := Copy(ctx, dst, src, CopyOptions{})
	if err != nil || st.Updated != 1 || len(st.Conflicts) != 0 {
		t.Errorf("copy of its end: %+v, %v", st, err)
	}
	if got, err := dst.GetRun(r.ID()); err != nil || got.Status != StatusFinished || got.Metrics["loss"] != 0.5 {
		t.Errorf("in the target: %+v, %v", got, err)
	}
}

// A run copied RUNNING before copy marks were kept (a store of schema 6) and finished in the
// source since is updated, not a conflict: the target holds the start of its history and no
// edit. One whose copied history was altered is a conflict.
func TestCopyWithoutMarkUpdatesRunningRun(t *testing.T) {
	ctx := context.Background()
	src, dst := tempStore(t), tempStore(t)
	var runs []*Run
	for _, name := range []string{"finishes", "altered"} {
		r := mustStart(t, src, RunSpec{Name: name})
		r.LogMetric("loss", 1, 1, 1)
		runs = append(runs, r)
	}
	if st, err := Copy(ctx, dst, src, CopyOptions{Running: true}); err != nil || st.Copied != 2 {
		t.Fatalf("copy of the running runs: %+v, %v", st, err)
	}
	if _, err := dst.exec(`DELETE FROM copy_marks`); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.exec(`UPDATE metrics SET value = 7 WHERE run_id = ?`, runs[1].ID()); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		r.LogMetric("loss", 0.5, 2, 2)
		must(t, r.Finish(StatusFinished, ""))
	}
	st, err := Copy(ctx, dst, src, CopyOptions{})
	want := []CopyConflict{{RunID: runs[1].ID(), Name: "altered", Fields: []string{"status", "metrics"}}}
	if err != nil || st.Updated != 1 || !reflect.DeepEqual(st.Conflicts, want) {
		t.Errorf("copy of their ends: %+v, %v", st, err)
	}
	if got, err := dst.GetRun(runs[0].ID()); err != nil || got.Status != StatusFinished || got.Metrics["loss"] != 0.5 {
		t.Errorf("in the target: %+v, %v", got, err)
	}
}
