package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ui/plot"

	"github.com/aelab/aelab/tracker"
)

// gomlxFolder makes a GoMLX checkpoint folder parent/mnist-mlp with GoMLX's own writers: plot
// points through plot.CreatePointsWriter (what GoMLX's plotters save during training) and a
// checkpoint with the model store's params through checkpoint.Handler.Save.
func gomlxFolder(t *testing.T, parent string) string {
	t.Helper()
	dir := filepath.Join(parent, "mnist-mlp")
	store := model.NewStore()
	store.SetParams(map[string]any{"learning_rate": 0.001, "batch_size": 64, "model/hidden_layers": []int{128, 64}})
	h, err := checkpoint.Build(store).Dir(dir).Done()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	w, done := plot.CreatePointsWriter(filepath.Join(dir, plot.TrainingPlotFileName))
	for step, loss := range map[float64]float64{100: 0.9, 200: 0.5, 300: 0.3} {
		w <- plot.Point{MetricName: "Train: Moving Average Loss", Short: "T/~loss", MetricType: "loss", Step: step, Value: loss}
		w <- plot.Point{MetricName: "Mean Loss on test", Short: "#loss(tes)", MetricType: "loss", Step: step, Value: loss + 0.05}
	}
	w <- plot.Point{MetricName: "Accuracy on test", MetricType: "accuracy", Step: 150.5, Value: 0.5} // not a step: skipped
	close(w)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return dir
}

// folderState is each file of a folder with its size and modification time.
func folderState(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, _ := e.Info()
		fmt.Fprintf(&b, "%s %s %d\n", e.Name(), fi.ModTime(), fi.Size())
	}
	return b.String()
}

func TestImportGoMLX(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	dir := gomlxFolder(t, t.TempDir())
	before := folderState(t, dir)
	code, stdout, stderr := runAelab(t, "import", "gomlx", "--db", db, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "6 metric values at 3 steps, 3 params") || !strings.Contains(stdout, "1 points skipped") {
		t.Errorf("stdout %q", stdout)
	}
	if after := folderState(t, dir); after != before {
		t.Errorf("the import changed the folder:\n%s\nwas\n%s", after, before)
	}
	rec, h := onlyRun(t, db)
	if rec.Experiment != "gomlx-import" || rec.Name != "mnist-mlp" || rec.Params["learning_rate"] != "0.001" ||
		rec.Params["batch_size"] != "64" || rec.Params["model/hidden_layers"] != "[128,64]" {
		t.Errorf("run %s/%s params %v", rec.Experiment, rec.Name, rec.Params)
	}
	loss := h["train_moving_average_loss"]
	if len(loss) != 3 || loss[0].Step != 100 || loss[2].Value != 0.3 || len(h["mean_loss_on_test"]) != 3 {
		t.Errorf("history %v", h)
	}
}

func TestImportGoMLXRefusesBadFolders(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	for _, args := range [][]string{
		{"import", "gomlx", "--db", db, filepath.Join(t.TempDir(), "missing")},
		{"import", "gomlx", "--db", db, t.TempDir()}, // no training_plot_points.json
		{"import", "gomlx", "--db", db, notDir},
		{"import", "gomlx", "--db", db},
		{"import", "keras", "--db", db, t.TempDir()},
	} {
		code, _, stderr := runAelab(t, args...)
		if code == 0 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("aelab %v: exit %d, stderr %q, want one line", args, code, stderr)
		}
	}
	if s, err := tracker.OpenReadOnly(db); err == nil {
		defer s.Close()
		if runs, _ := s.SearchRuns(tracker.Search{}); len(runs) != 0 {
			t.Errorf("refused imports recorded %d runs", len(runs))
		}
	}
}
