package reports

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// TestReportOfRunsThatAreNotAelabModels: runs logged by a program of the user's own (a
// classifier: loss and accuracy by step, no aelab config) are compared on the metrics they
// share, with their curves; the course's sections and its claims audit are left out, and no
// note complains of a missing model config.
func TestReportOfRunsThatAreNotAelabModels(t *testing.T) {
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i, lr := range []string{"0.01", "0.001"} {
		r, err := store.StartRun(tracker.RunSpec{Experiment: "fashion-clf", Name: "clf-lr" + lr,
			Params: map[string]string{"learning_rate": lr, "task": "clf"}})
		if err != nil {
			t.Fatal(err)
		}
		for step := int64(1); step <= 5; step++ {
			vals := map[string]float64{"loss": 1 / float64(step+int64(i)), "accuracy": 0.5 + 0.08*float64(step)}
			if i == 0 {
				vals["grad_norm"] = 1 // logged by one run only: not shared
			}
			if err := r.LogMetrics(vals, step*100, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Finish(tracker.StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Build(store, Options{Where: `params.task = "clf"`, NoGrids: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) != 0 {
		t.Errorf("notes: %q", rep.Notes)
	}
	if got := rep.sharedMetrics(); strings.Join(got, ",") != "accuracy,loss" {
		t.Errorf("shared metrics %v, want accuracy and loss", got)
	}
	var curves *Figure
	for _, f := range rep.Figures {
		if f.Name == "shared_metrics" {
			curves = f
		}
	}
	if curves == nil || len(curves.PNG) == 0 || !strings.Contains(curves.Caption, "accuracy, loss") {
		t.Fatalf("no curves of the shared metrics among %d figures", len(rep.Figures))
	}
	page, md := rep.Document(), rep.Markdown()
	for _, want := range []string{"Metrics the runs share", "clf-lr0.01", "0.9", "0.166667"} {
		if !strings.Contains(page, want) || !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, course := range []string{"Course claims audit", "Architecture", "grad_norm"} {
		if strings.Contains(page, course) || strings.Contains(md, course) {
			t.Errorf("report of classifier runs shows %q", course)
		}
	}
}
