package reports_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// sweepStore runs a real sweep (tiny trials, a <script> in its name to check escaping) with
// early stopping, and queues a second one that no worker takes.
func sweepStore(t *testing.T) (store *tracker.Store, done, queued string) {
	t.Helper()
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	spec, err := sweeps.ParseSpec("s.yaml", []byte(`name: "<script>x</script>"
model: vanilla
base: {epochs: 3, subset: 512, test-subset: 256, batch: 128}
parameters:
  lr: [0.002, 0.003, 0.0000001]
  widths: ["64,16"]
seeds: [1]
early_stopping: {rule: median, min_trials: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := sweeps.RunLocal(context.Background(), store, spec, sweeps.LocalOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	spec.Name = "waiting"
	q, err := sweeps.Create(context.Background(), store, spec, sweeps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store, sw.ID, q.ID
}

func TestSweepReport(t *testing.T) {
	store, done, queued := sweepStore(t)
	rep, err := reports.BuildSweep(store, done[:8], reports.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Trials) != 3 || rep.Best == nil || rep.Best.Index != 1 || rep.CurveMetric != "val_bce" {
		t.Fatalf("trials %d, best %+v, curves of %s", len(rep.Trials), rep.Best, rep.CurveMetric)
	}
	if st := rep.Trials[2]; st.StoppedEpoch != 1 || len(st.Curve) != 1 || st.State != trial.StoppedEarly {
		t.Errorf("stopped trial: epoch %d, %d points, %s", st.StoppedEpoch, len(st.Curve), st.State)
	}
	for i, tr := range rep.Ranked() {
		if math.IsNaN(tr.Value) || i > 0 && tr.Value < rep.Ranked()[i-1].Value {
			t.Errorf("ranking: %d is trial %d with %g", i, tr.Index, tr.Value)
		}
	}
	var names []string
	for _, f := range rep.Figures {
		names = append(names, f.Name)
		if len(f.PNG) < 1000 || !strings.HasPrefix(string(f.SVG), "<?xml") && !strings.HasPrefix(string(f.SVG), "<svg") {
			t.Errorf("figure %s: %d bytes of PNG, SVG %.20q", f.Name, len(f.PNG), f.SVG)
		}
	}
	// widths has one value and seeds one seed: they get a panel but no seed axis.
	if got := strings.Join(names, " "); got != "sweep_parallel sweep_metric_lr sweep_metric_widths sweep_curves" {
		t.Errorf("figures: %s", got)
	}
	html := rep.HTML()
	if strings.Contains(html, "<script>x") || !strings.Contains(html, "&lt;script&gt;x") {
		t.Error("the sweep's name is not escaped in the HTML")
	}
	md := rep.Markdown()
	if outside, _, _ := strings.Cut(md, "```yaml"); strings.Contains(outside, "<script>") { // in the code block it is text
		t.Error("the sweep's name is raw HTML in the Markdown")
	}
	for _, want := range []string{"| 1 | 0.003 | 64,16 | 1 | finished |", "| 2 | 0.0000001 | 64,16 | 1 | stopped early |",
		"after epoch 1: median rule at epoch 1", "![Parallel coordinates](sweep_parallel.png)", "3 trials (2 finished, 1 stopped early)"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	dir := t.TempDir()
	written, err := rep.WriteDir(dir)
	if err != nil || len(written) != 10 {
		t.Fatalf("WriteDir: %d files, %v", len(written), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sweep_curves.svg")); err != nil {
		t.Error(err)
	}

	// A sweep whose trials never ran: all queued, no figures, said so.
	rep, err = reports.BuildSweep(store, queued, reports.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Counts(); c[trial.Queued] != 3 || rep.Best != nil || len(rep.Figures) != 0 || len(rep.Notes) != 1 {
		t.Errorf("queued sweep: %v, best %v, %d figures, notes %q", c, rep.Best, len(rep.Figures), rep.Notes)
	}
	if _, err := reports.BuildSweep(store, "0123abcd", reports.SweepOptions{}); err == nil || !strings.Contains(err.Error(), "no sweep") {
		t.Errorf("unknown sweep: %v", err)
	}
}

// The report, `aelab sweep status` (package sweeps) and the UI say a trial's state in the
// same words: a finished sweep, one that waits in the queue, and that one cancelled.
func TestSweepTrialStatesAgree(t *testing.T) {
	store, done, queued := sweepStore(t)
	agree := func(id string, want trial.Counts) {
		t.Helper()
		st, err := sweeps.Status(context.Background(), store, id)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := reports.BuildSweep(store, id, reports.SweepOptions{NoFigures: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range rep.Trials {
			if tr.State != st.Trials[i].State {
				t.Errorf("sweep %s trial %d: report says %q, sweeps.Status %q", id[:8], tr.Index, tr.State, st.Trials[i].State)
			}
		}
		if got := rep.Counts().String(); got != want.String() || st.Counts.String() != got {
			t.Errorf("sweep %s: report %q, sweeps.Status %q, want %q", id[:8], got, st.Counts, want)
		}
	}
	agree(done, trial.Counts{trial.Finished: 2, trial.StoppedEarly: 1})
	agree(queued, trial.Counts{trial.Queued: 3})
	if _, err := sweeps.Cancel(context.Background(), store, queued); err != nil {
		t.Fatal(err)
	}
	agree(queued, trial.Counts{trial.Cancelled: 3})
}
