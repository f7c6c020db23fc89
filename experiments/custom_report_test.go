package experiments_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/tracker"
)

// A program's own model shows in a report like a built-in: its layers' summary (from the
// architecture its run stored) in the architecture table and its metrics in the others.
func TestCustomRunInReport(t *testing.T) {
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	arch := aelib.Dense("dense-mine", data.Pixels, 48, 12)
	arch.Layers = append(arch.Layers[:1], append([]aelib.Layer{{Name: "drop", Kind: aelib.KindDropout, Rate: 0.2, Encoder: true}}, arch.Layers[1:]...)...)
	cfg, err := aelib.DefaultConfig(aelib.ModelVanilla)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 256, 128
	if _, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Arch: &arch, Source: "test"}, experiments.Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := reports.Build(store, reports.Options{Where: `params.model = "dense-mine"`, GridImages: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) > 0 {
		t.Errorf("report notes: %q", rep.Notes)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Summary == nil || !rep.Runs[0].Course() {
		t.Fatalf("report runs %+v", rep.Runs)
	}
	summary, err := arch.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Runs[0].Summary.Total != summary.Total {
		t.Errorf("report's summary: %d parameters, want %d", rep.Runs[0].Summary.Total, summary.Total)
	}
	// The UI draws a run's reconstructions with the report's grid, from its checkpoint.
	rec := rep.Runs[0].Record
	test, err := data.LoadTest(data.MNIST)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := reports.ReconstructionGrid(rec, experiments.Checkpoint(rec), 4, func(string, int) (*data.Split, error) { return test.Subset(4), nil })
	if err != nil || fig == nil || len(fig.PNG) == 0 {
		t.Errorf("reconstruction grid of a custom run: %v", err)
	}
	md := rep.Markdown()
	for _, want := range []string{"dense-mine", "784 → 48 → 12", aelib.Thousands(summary.Total)} {
		if !strings.Contains(md, want) {
			t.Errorf("the report's Markdown lacks %q", want)
		}
	}
}
