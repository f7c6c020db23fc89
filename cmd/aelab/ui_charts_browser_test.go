package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/tracker"
)

// logChartRuns records, through the tracker as a training logs them, two models of three
// seeds each (six epochs; the third vanilla run named <script>…) and a run that finished after
// one epoch. It returns their ids by name ("short" for the last).
func logChartRuns(t *testing.T, store *tracker.Store) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, model := range []string{aelib.ModelDeep, aelib.ModelVanilla} {
		for seed := 1; seed <= 3; seed++ {
			name := fmt.Sprintf("%s-s%d", model, seed)
			if model == aelib.ModelVanilla && seed == 3 {
				name = "<script>alert(1)</script>"
			}
			base := map[string]float64{aelib.ModelDeep: 0.2, aelib.ModelVanilla: 0.3}[model]
			run, err := store.StartRun(tracker.RunSpec{Name: name, Source: "test",
				Params: map[string]string{"model": model, "seed": fmt.Sprint(seed), "epochs": "6"}})
			if err != nil {
				t.Fatal(err)
			}
			for e := 1; e <= 6; e++ {
				v := base/float64(e) + float64(seed*seed)*0.004
				m := aelib.EpochMetrics{Epoch: e, Step: int64(e * 100), TrainLoss: 1.1 * v, ValLoss: v, ValMSE: v / 10, ValMAE: v / 4, Seconds: 1, TrainSeconds: 0.9}
				if err := experiments.LogEpoch(run, m); err != nil {
					t.Fatal(err)
				}
			}
			if err := run.Finish(tracker.StatusFinished, ""); err != nil {
				t.Fatal(err)
			}
			ids[name] = run.ID()
		}
	}
	run, err := store.StartRun(tracker.RunSpec{Name: "short", Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: 1, Step: 100, TrainLoss: 0.4, ValLoss: 0.35, ValMSE: 0.03, ValMAE: 0.08, Seconds: 1, TrainSeconds: 0.9}); err != nil {
		t.Fatal(err)
	}
	if err := run.Finish(tracker.StatusFinished, ""); err != nil {
		t.Fatal(err)
	}
	ids["short"] = run.ID()

	// A program of the user's own, tracked through package track: a classifier's accuracy by
	// step, no aelab model.
	clf, err := track.Start(context.Background(), track.Options{Store: store, Experiment: "fashion-clf",
		Name: "classifier", Params: map[string]string{"learning_rate": "0.01"}, NoSignals: true})
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 8; step++ {
		clf.Log(step*50, map[string]float64{"accuracy": 0.6 + 0.04*float64(step), "loss": 1 / float64(step)})
	}
	if err := clf.End(nil); err != nil {
		t.Fatal(err)
	}
	ids["classifier"] = clf.ID()
	return ids
}

// TestUIChartsInTheBrowser drives the charts of `aelab ui` in Debian's Chromium
// (scripts/browser/charts.mjs): hovering a chart reads every run's value at an epoch under its
// name, the nearest curve is highlighted and a legend click hides a run; a second panel added
// by searching a metric, with its own scale, and a link that reopens the same two-panel view;
// grouping by model draws mean and min–max bands whose readout matches /api/series; brushing
// a parallel-coordinates axis narrows the table to the runs inside; a run that finished after
// one epoch opens no live stream and names its metric by the schema's title; in the dark theme
// the axes are drawn in its text colour. Screenshots go to build/ui-charts/ (the ones in docs/
// come from there).
func TestUIChartsInTheBrowser(t *testing.T) {
	node, root := browserTools(t)
	db := filepath.Join(t.TempDir(), "aelab.db")
	store, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ids := logChartRuns(t, store)
	store.Close()
	url, _ := startUI(t, "ui", "--db", db, "--addr", "127.0.0.1:0")
	runs, _ := json.Marshal(ids)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	script := exec.CommandContext(ctx, node, filepath.Join(root, "scripts", "browser", "charts.mjs"))
	script.Dir = root
	script.Env = append(os.Environ(), "AELAB_UI_URL="+url, "AELAB_UI_SHOTS="+filepath.Join(root, "build", "ui-charts"), "AELAB_UI_RUNS="+string(runs))
	b, err := script.CombinedOutput()
	t.Logf("%s", b)
	if err != nil {
		t.Fatalf("the browser test of the charts failed: %v", err)
	}
}
