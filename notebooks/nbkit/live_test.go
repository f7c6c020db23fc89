package nbkit

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/notebooks/nbplot"
	"github.com/aelab/aelab/tracker"
)

// recorder keeps what a Live view showed, by display block.
type recorder struct {
	order []string          // block ids, one per update
	last  map[string]string // block id → its latest HTML
}

func record(l *Live) *recorder {
	r := &recorder{last: map[string]string{}}
	l.show = func(id, html string) { r.order = append(r.order, id); r.last[id] = html }
	return r
}

func (r *recorder) updates(id string) int {
	n := 0
	for _, x := range r.order {
		if x == id {
			n++
		}
	}
	return n
}

func TestLiveDrawAndProgress(t *testing.T) {
	l := NewLive(nbplot.Chart{Title: "trials <3", XLabel: "epoch", YLabel: "val BCE"})
	rec := record(l)
	if err := l.Draw(); err != nil { // nothing added yet: an empty block, no chart
		t.Fatal(err)
	}
	if h := rec.last[l.chartID]; strings.Contains(h, "<img") || !strings.Contains(h, `data-draws="1"`) || !strings.Contains(h, "after the first epoch") {
		t.Errorf("empty view: %s", h)
	}
	l.Add("trial 1", 1, 0.3)
	l.Add("trial 2", 1, 0.25)
	l.Add("trial 1", 2, 0.2)
	l.Images("after epoch 2", []nbplot.Row{{Title: "test images", Images: make([]float32, 2*784)}})
	if err := l.Draw(); err != nil {
		t.Fatal(err)
	}
	h := rec.last[l.chartID]
	for _, want := range []string{`data-draws="2"`, `<img alt="trials &lt;3" src="data:image/png;base64,`, "after epoch 2", "test images"} {
		if !strings.Contains(h, want) {
			t.Errorf("chart block lacks %q", want)
		}
	}
	if len(l.series) != 2 || len(l.series[0].X) != 2 {
		t.Errorf("series %+v", l.series)
	}

	l.ProgressEvery = time.Hour
	l.Progress(1, 10, "step 1")
	l.Progress(2, 10, "step 2 <b>") // too soon: skipped
	l.Progress(10, 10, "done")      // the end always shows
	if n := rec.updates(l.progressID); n != 2 {
		t.Errorf("%d progress redraws, want 2 (the second one throttled)", n)
	}
	if p := rec.last[l.progressID]; !strings.Contains(p, `<progress value="10" max="10"`) || !strings.Contains(p, "done") {
		t.Errorf("progress line %s", p)
	}
	bad := &Live{Chart: nbplot.Chart{LogY: true}, show: l.show}
	bad.Add("x", 1, -1) // gonum/plot cannot put -1 on a log scale
	if err := bad.Draw(); err == nil {
		t.Error("a negative value on a log scale: no error")
	}
}

// TestLiveFollowsTraining trains a real (tiny) denoising run through experiments.Run with the
// view attached, as a notebook's training cell does, and checks what the view showed.
func TestLiveFollowsTraining(t *testing.T) {
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg, err := aelib.DefaultConfig(aelib.ModelDenoise)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 256, 64
	l := NewLive(nbplot.Chart{Title: "Denoiser", XLabel: "epoch", YLabel: "BCE"})
	l.ProgressEvery = 0 // every step
	rec := record(l)
	res, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Source: "test"},
		experiments.Options{ObserveModel: l.Observe(4)})
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.updates(l.chartID); n != 3 {
		t.Errorf("%d chart redraws, want an empty one at the start and one per epoch (2)", n)
	}
	if rec.order[0] != l.chartID || rec.order[1] != l.progressID {
		t.Errorf("the first blocks shown: %v; want the chart, then the progress line", rec.order[:2])
	}
	h := rec.last[l.chartID]
	for _, want := range []string{`data-draws="3"`, "<img", "test images", "noisy inputs", "after epoch 2"} {
		if !strings.Contains(h, want) {
			t.Errorf("the last chart block lacks %q", want)
		}
	}
	steps := 2 * (256 / cfg.BatchSize)
	if !res.Model.UsesDeviceLoop() && rec.updates(l.progressID) < steps {
		t.Errorf("%d progress redraws for %d steps", rec.updates(l.progressID), steps)
	}
	p := rec.last[l.progressID]
	if !regexp.MustCompile(`epoch 2/2 finished · loss 0\.\d{4} · val BCE 0\.\d{4}`).MatchString(p) {
		t.Errorf("last progress line %s", p)
	}
	if l.series[1].Name != "validation BCE" || l.series[1].Y[1] != res.History.Epochs[1].ValLoss {
		t.Errorf("the chart's validation curve %+v is not the run's %+v", l.series[1], res.History.Epochs)
	}
}

// TestLiveTrials feeds one view from two runs, as a sweep's notebook cell does; a metric that
// is not per-epoch is an error.
func TestLiveTrials(t *testing.T) {
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l := NewLive(nbplot.Chart{Title: "Sweep", XLabel: "epoch", YLabel: "val BCE"})
	rec := record(l)
	for _, lr := range []float64{1e-3, 3e-3} {
		cfg, err := aelib.DefaultConfig(aelib.ModelVanilla)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.LearningRate = 2, 256, 64, lr
		if _, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Source: "test"},
			experiments.Options{Observers: []aelib.Observer{l.Trial(fmt.Sprintf("lr %g", lr), cfg.Epochs, experiments.ValMSE)}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(l.series) != 2 || l.series[1].Name != "lr 0.003" || len(l.series[1].X) != 2 {
		t.Errorf("series %+v: want one curve of two epochs per trial", l.series)
	}
	if err := l.Trial("x", 1, experiments.TestMSE).EpochEnd(aelib.EpochMetrics{Epoch: 1}); err == nil {
		t.Error("a final metric on a per-epoch chart: no error")
	}
	if n := rec.updates(l.chartID); n != 4 || !strings.Contains(rec.last[l.progressID], "lr 0.003 · epoch 2/2 · val MSE 0.") {
		t.Errorf("%d chart redraws, last progress %q", n, rec.last[l.progressID])
	}
}

// BenchmarkLiveEpoch is what the live view adds to one epoch of a notebook's training cell:
// the chart of 10 epochs' curves drawn, and 8 test images reconstructed and gridded under it.
func BenchmarkLiveEpoch(b *testing.B) {
	cfg, err := aelib.DefaultConfig(aelib.ModelVanilla)
	if err != nil {
		b.Fatal(err)
	}
	ae, err := aelib.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	test := make([]float32, 8*784)
	for _, images := range []int{0, 8} {
		b.Run(map[int]string{0: "chart", 8: "chart+images"}[images], func(b *testing.B) {
			l := NewLive(nbplot.Chart{Title: "Vanilla autoencoder", XLabel: "epoch", YLabel: "BCE"})
			l.show = func(string, string) {}
			o := l.Observe(images)(ae, aelib.Splits{TestInputs: test, TestTargets: test, NTest: 8})[0]
			for e := 1; e <= 9; e++ {
				l.Add("training loss", float64(e), 0.2/float64(e))
				l.Add("validation BCE", float64(e), 0.19/float64(e))
			}
			if err := o.EpochEnd(aelib.EpochMetrics{Epoch: 10, TrainLoss: 0.1, ValLoss: 0.1}); err != nil { // compiles the inference graph
				b.Fatal(err)
			}
			for b.Loop() {
				l.series[0].X, l.series[0].Y = l.series[0].X[:9], l.series[0].Y[:9]
				l.series[1].X, l.series[1].Y = l.series[1].X[:9], l.series[1].Y[:9]
				if err := o.EpochEnd(aelib.EpochMetrics{Epoch: 10, TrainLoss: 0.1, ValLoss: 0.1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
