package experiments

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/tracker"
)

func openTestStore(t *testing.T) *tracker.Store {
	t.Helper()
	store, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func tinyConfig(t *testing.T, model string) aelib.Config {
	t.Helper()
	p, err := LookupPreset(model)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Config
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 512, 256
	return cfg
}

func TestRunLogsEverything(t *testing.T) {
	store := openTestStore(t)
	cfg := tinyConfig(t, aelib.ModelDenoise)
	res, err := Run(context.Background(), store, Spec{Config: cfg, Section: "1.4", Source: "test", Tags: map[string]string{"purpose": "test"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFinished || rec.Experiment != DefaultExperiment || rec.Name != "denoise" {
		t.Errorf("run %s: status %s, experiment %s, name %s", rec.ID, rec.Status, rec.Experiment, rec.Name)
	}
	for key, want := range map[string]string{"model": "denoise", "epochs": "2", "noise": "0.5", "filters": "32", "train_subset": "512"} {
		if rec.Params[key] != want {
			t.Errorf("param %s = %q, want %q", key, rec.Params[key], want)
		}
	}
	for _, tag := range []string{"section", "purpose", "env.go_version", "env.backend", "env.device", "env.host", "env.cpus",
		"data.dir", "data.train_images_sha256", "data.test_labels_sha256"} {
		if rec.Tags[tag] == "" {
			t.Errorf("tag %s missing", tag)
		}
	}
	if rec.Metrics[ParamCount.Name] != 28353 {
		t.Errorf("params metric %v", rec.Metrics[ParamCount.Name])
	}
	checkAgainstSchema(t, store, rec.ID, cfg)
	hist, err := store.MetricHistory(rec.ID, ValBCE.Name)
	if err != nil || len(hist) != 2 || hist[0].Epoch != 1 || hist[1].Epoch != 2 {
		t.Fatalf("val_bce history %+v, %v", hist, err)
	}
	stored, err := ConfigOf(rec)
	if err != nil || stored.Model != cfg.Model || stored.Noise != cfg.Noise || stored.TrainSubset != 512 {
		t.Errorf("stored config %+v, %v", stored, err)
	}

	// A later cell (or report) loads the model back from the run.
	latest, ae, err := Latest(store, `params.model = "denoise"`)
	if err != nil {
		t.Fatal(err)
	}
	if latest.ID != rec.ID || ae.Config.Model != "denoise" {
		t.Errorf("Latest found %s", latest.ID)
	}
	ds := mustMNIST(t)
	splits := aelib.PrepareSplits(stored, ds)
	ev, err := Evaluate(ae, splits, ds.Test.Labels)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ev.Test.MSE-rec.Metrics[TestMSE.Name]) > 1e-6 {
		t.Errorf("loaded checkpoint scores MSE %v, the run logged %v", ev.Test.MSE, rec.Metrics[TestMSE.Name])
	}
}

func mustMNIST(t *testing.T) *data.Dataset {
	ds, err := data.Load(data.MNIST)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestNaNLossFailsTheRunAndKeepsItsHistory(t *testing.T) {
	store := openTestStore(t)
	ds := mustMNIST(t)
	bad := &data.Dataset{Name: ds.Name, Train: &data.Split{N: 512, Labels: ds.Train.Labels[:512], Images: slices.Clone(ds.Train.Images[:512*784])}, Test: ds.Test}
	for i := range bad.Train.Images {
		bad.Train.Images[i] = float32(math.NaN())
	}
	cfg := tinyConfig(t, aelib.ModelVanilla)
	res, err := Run(context.Background(), store, Spec{Config: cfg}, Options{Data: bad})
	if err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("error %v, want a non-finite loss", err)
	}
	rec, err := store.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFailed || !strings.Contains(rec.Error, "not finite") {
		t.Errorf("status %s, reason %q", rec.Status, rec.Error)
	}
}

func TestCancelledRunIsKilled(t *testing.T) {
	store := openTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, store, Spec{Config: tinyConfig(t, aelib.ModelVanilla)}, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	rec, err := store.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusKilled {
		t.Errorf("status %s (%s), want KILLED", rec.Status, rec.Error)
	}
}

func TestReproduce(t *testing.T) {
	store := openTestStore(t)
	cfg := tinyConfig(t, aelib.ModelDeep)
	first, err := Run(context.Background(), store, Spec{Config: cfg}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	orig, again, err := Reproduce(context.Background(), store, first.RunID[:8], Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := store.GetRun(again.RunID)
	if rec.Tags["reproduces"] != orig.ID {
		t.Errorf("reproduces tag %q", rec.Tags["reproduces"])
	}
	if got, want := rec.Metrics[ValBCE.Name], orig.Metrics[ValBCE.Name]; got != want {
		t.Errorf("same seed on the same backend: %s %v then %v", ValBCE.Name, want, got)
	}
}

func TestPresetsAndQuick(t *testing.T) {
	names := []string{}
	for _, p := range Presets() {
		names = append(names, p.Name+"@"+p.Section)
	}
	if !slices.Equal(names, []string{"vanilla@1.2", "deep@1.3", "denoise@1.4"}) {
		t.Errorf("presets %v", names)
	}
	if _, err := LookupPreset("pca"); err == nil {
		t.Error("unknown preset: no error")
	}
	deep, _ := LookupPreset("deep")
	if deep.Config.Epochs != 50 || deep.Config.Quick().Epochs >= 50 {
		t.Error("Quick should shorten the course's 50 epochs")
	}
}

// TestRunLogsSystemMetrics checks the system.* metrics of a tracked run: one point at the end
// of each epoch (with its step) and periodic points in between, and the Observers hook.
func TestRunLogsSystemMetrics(t *testing.T) {
	store := openTestStore(t)
	cfg := tinyConfig(t, aelib.ModelVanilla)
	var seen []int
	res, err := Run(context.Background(), store, Spec{Config: cfg, Source: "test"}, Options{
		SystemInterval: time.Millisecond, // far shorter than compiling the graph: periodic samples are certain
		ObserveModel: func(ae *aelib.Autoencoder, s aelib.Splits) []aelib.Observer {
			if ae == nil || s.NTrain != 512 {
				t.Errorf("Observers called with model %v, %d training images", ae, s.NTrain)
			}
			return []aelib.Observer{aelib.ObserverFunc(func(m aelib.EpochMetrics) error { seen = append(seen, m.Epoch); return nil })}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{1, 2}) {
		t.Errorf("the extra observer saw epochs %v", seen)
	}
	if runtime.GOOS != "linux" {
		return // CPU and memory come from /proc
	}
	steps := map[int]int64{}
	for _, p := range must(store.MetricHistory(res.RunID, "val_bce")) {
		steps[p.Epoch] = p.Step
	}
	for _, key := range []string{SystemCPU.Name, SystemRSS.Name, SystemPeakRSS.Name} {
		points := must(store.MetricHistory(res.RunID, key))
		atEpochEnd := map[int]bool{}
		for _, p := range points {
			if p.Epoch < 1 || p.Epoch > cfg.Epochs || math.IsNaN(p.Value) || p.Value < 0 {
				t.Errorf("%s: point %+v", key, p)
			}
			if p.Step == steps[p.Epoch] {
				atEpochEnd[p.Epoch] = true
			}
		}
		if len(atEpochEnd) != cfg.Epochs || len(points) <= cfg.Epochs {
			t.Errorf("%s: %d points, at the end of epochs %v; want one per epoch end and periodic ones", key, len(points), atEpochEnd)
		}
	}
	rec := must(store.GetRun(res.RunID))
	if rec.Metrics[SystemRSS.Name] <= 0 || rec.Metrics[SystemPeakRSS.Name] < rec.Metrics[SystemRSS.Name] {
		t.Errorf("latest RSS %v, peak %v", rec.Metrics[SystemRSS.Name], rec.Metrics[SystemPeakRSS.Name])
	}
}
