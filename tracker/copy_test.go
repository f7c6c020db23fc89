package tracker

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// copySource fills a store whose artifact root is root with: a finished run
// with a checkpoint folder of two files, a failed one whose artifact lives
// outside the root, one whose artifact file is missing, a deleted one, and a
// RUNNING one (returned open).
func copySource(t *testing.T, s *Store) (ids map[string]string, running *Run) {
	t.Helper()
	ids = map[string]string{}
	mk := func(name string, params map[string]string, status Status) *Run {
		r := mustStart(t, s, RunSpec{Experiment: "exp-" + params["model"], Name: name, Params: params,
			Tags: map[string]string{"note": name}, Config: []byte(`{"model":"` + params["model"] + `"}`)})
		for epoch := 1; epoch <= 3; epoch++ {
			v := 1 / float64(epoch)
			if name == "failed" && epoch == 3 {
				v = math.NaN()
			}
			if err := r.LogMetrics(map[string]float64{"train_loss": v, "val_bce": v + 0.1}, int64(epoch*10), epoch); err != nil {
				t.Fatal(err)
			}
		}
		ids[name] = r.ID()
		if status != StatusRunning {
			if err := r.Finish(status, map[Status]string{StatusFailed: "loss is NaN"}[status]); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	done := mk("done", map[string]string{"model": "deep"}, StatusFinished)
	ckpt := filepath.Join(s.ArtifactRoot(), "checkpoints", done.ID())
	for name, content := range map[string]string{"config.json": `{"model":"deep"}`, "weights.bin": "0123456789"} {
		if err := os.MkdirAll(ckpt, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ckpt, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	done.LogArtifact("checkpoint", ckpt, "weights")

	failed := mk("failed", map[string]string{"model": "vanilla"}, StatusRunning)
	outside := filepath.Join(t.TempDir(), "loss.png")
	os.WriteFile(outside, []byte("png"), 0o644)
	failed.LogArtifact("figure", outside, "loss curve")
	failed.Finish(StatusFailed, "loss is NaN")

	gone := mk("gone", map[string]string{"model": "vanilla"}, StatusRunning)
	gone.LogArtifact("checkpoint", filepath.Join(s.ArtifactRoot(), "checkpoints", "deleted-by-hand"), "")
	gone.Finish(StatusFinished, "")

	mk("deleted", map[string]string{"model": "deep"}, StatusFinished)
	if err := s.DeleteRun(ids["deleted"]); err != nil {
		t.Fatal(err)
	}
	return ids, mk("running", map[string]string{"model": "deep"}, StatusRunning)
}

// outsideFigure is the path the source records for run id's figure, outside its artifact folder.
func outsideFigure(t *testing.T, s *Store, id string) string {
	t.Helper()
	var path string
	if err := s.reader().queryRow(`SELECT path FROM artifacts WHERE run_id = ?`, id).Scan(&path); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameRun fails unless the run reads the same from both stores.
func sameRun(t *testing.T, dst, src *Store, id string) {
	t.Helper()
	a, err := src.GetRun(id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dst.GetRun(id)
	if err != nil {
		t.Fatalf("run %s not in the target: %v", short(id), err)
	}
	for _, r := range []*RunRecord{a, b} {
		for i := range r.Artifacts { // each store resolves them under its own root
			r.Artifacts[i].Path = filepath.Base(r.Artifacts[i].Path)
		}
		for k, v := range r.Metrics {
			if math.IsNaN(v) { // NaN != NaN
				r.Metrics[k] = -1
				p := r.LatestMetrics[k]
				p.Value = -1
				r.LatestMetrics[k] = p
			}
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("run %s differs:\nsource %+v\ntarget %+v", short(id), a, b)
	}
	ha, _ := src.MetricHistories(id)
	hb, _ := dst.MetricHistories(id)
	if len(ha) != len(hb) || len(ha["val_bce"]) != len(hb["val_bce"]) || ha["val_bce"][2].Step != hb["val_bce"][2].Step {
		t.Errorf("run %s histories differ: %v / %v", short(id), ha, hb)
	}
}

// Issue #11, runs push/pull: runs copied between SQLite and PostgreSQL stores in
// both directions read the same; copying again copies nothing; runs that
// changed are replaced; RUNNING runs wait unless asked for; artifact files go
// to the target's root, recorded relative to it.
func TestCopyBetweenStores(t *testing.T) {
	for _, pair := range [][2]backend{{sqliteBackend, postgresBackend}, {postgresBackend, sqliteBackend}, {sqliteBackend, sqliteBackend}} {
		t.Run(pair[0].name+"-to-"+pair[1].name, func(t *testing.T) {
			ctx := context.Background()
			src, err := OpenWith(pair[0].newLocation(t), Options{ArtifactRoot: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			dst, err := OpenWith(pair[1].newLocation(t), Options{ArtifactRoot: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			ids, running := copySource(t, src)

			st, err := Copy(ctx, dst, src, CopyOptions{BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			// The figure outside the source's artifact folder is not read: recorded as missing.
			wantMissing := []CopyNote{
				{ids["failed"], outsideFigure(t, src, ids["failed"]), "its path is outside the source's artifact folder"},
				{ids["gone"], filepath.Join("checkpoints", "deleted-by-hand"), "its files are missing from the source's artifact folder"},
			}
			if st.Selected != 4 || st.Copied != 3 || st.Running != 1 || st.Metrics != 18 || st.Files != 2 ||
				!reflect.DeepEqual(st.MissingFiles, wantMissing) {
				t.Errorf("first copy: %+v", st)
			}
			for _, name := range []string{"done", "failed", "gone"} {
				sameRun(t, dst, src, ids[name])
			}
			if _, err := dst.GetRun(ids["running"]); !errors.Is(err, ErrNoRun) {
				t.Errorf("a RUNNING run was copied: %v", err)
			}
			got, _ := dst.GetRun(ids["done"])
			weights := filepath.Join(dst.ArtifactRoot(), "checkpoints", ids["done"], "weights.bin")
			if b, err := os.ReadFile(weights); err != nil || string(b) != "0123456789" || got.Artifacts[0].Path != filepath.Dir(weights) {
				t.Errorf("checkpoint in the target: %q %v, recorded %s", b, err, got.Artifacts[0].Path)
			}
			var stored string
			dst.reader().queryRow(`SELECT path FROM artifacts WHERE run_id = ?`, ids["failed"]).Scan(&stored)
			if stored != filepath.Join("imported", ids["failed"], "loss.png") {
				t.Errorf("artifact from outside the root recorded as %s", stored)
			}
			if _, err := os.Stat(filepath.Join(dst.ArtifactRoot(), stored)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("artifact from outside the root was copied: %v", err)
			}

			again, err := Copy(ctx, dst, src, CopyOptions{})
			if err != nil || again.Copied+again.Updated+again.Files+again.Metrics != 0 || again.Unchanged != 3 {
				t.Errorf("second copy: %+v, %v", again, err)
			}

			// The RUNNING run ends and a run is tagged: the next copy brings both.
			running.Finish(StatusFinished, "")
			src.SetTag(ids["done"], "reviewed", "yes")
			st, err = Copy(ctx, dst, src, CopyOptions{Filter: `params.model = "deep"`})
			if err != nil || st.Selected != 2 || st.Copied != 1 || st.Updated != 1 || st.Files != 0 {
				t.Errorf("copy after changes: %+v, %v", st, err)
			}
			sameRun(t, dst, src, ids["running"])
			sameRun(t, dst, src, ids["done"])

			// Deleted runs on request.
			if st, err = Copy(ctx, dst, src, CopyOptions{IncludeDeleted: true}); err != nil || st.Copied != 1 {
				t.Errorf("copy with deleted runs: %+v, %v", st, err)
			}
			if r, err := dst.GetRun(ids["deleted"]); err != nil || !r.Deleted {
				t.Errorf("deleted run in the target: %+v, %v", r, err)
			}
		})
	}
}

// An interrupted copy resumes where it stopped; RUNNING runs come with their
// status when asked for.
func TestCopyResumesAndCopiesRunning(t *testing.T) {
	src := tempStore(t)
	dst := postgresBackend.store(t)
	for i := range 5 {
		r := mustStart(t, src, RunSpec{Name: string(rune('a' + i))})
		r.LogMetric("loss", float64(i), 1, 1)
		if i < 4 {
			r.Finish(StatusFinished, "")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := Copy(ctx, dst, src, CopyOptions{BatchSize: 2, Running: true, Progress: func(CopyStats) { cancel() }})
	if !errors.Is(err, context.Canceled) || st.Copied != 2 {
		t.Fatalf("interrupted copy: %+v, %v", st, err)
	}
	st, err = Copy(context.Background(), dst, src, CopyOptions{BatchSize: 2, Running: true})
	if err != nil || st.Copied != 3 || st.Unchanged != 2 || st.Running != 0 {
		t.Fatalf("resumed copy: %+v, %v", st, err)
	}
	runs, err := dst.SearchRuns(Search{Filter: "status = 'RUNNING'"})
	if err != nil || len(runs) != 1 || runs[0].Name != "e" {
		t.Errorf("running run in the target: %v, %v", runs, err)
	}
}
