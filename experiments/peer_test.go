package experiments

import (
	"context"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/tracker"
)

// A peer run logged from the same epochs and reconstructions as an aelab run holds the same
// metrics: the peer goes through Run's own logging and evaluation.
func TestPeerRunLogsWhatRunLogs(t *testing.T) {
	store := openTestStore(t)
	cfg := tinyConfig(t, aelib.ModelDenoise)
	ds, err := data.Load(cfg.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), store, Spec{Config: cfg, Section: "1.4", Source: "test"}, Options{Data: ds})
	if err != nil {
		t.Fatal(err)
	}
	s := aelib.PrepareSplits(cfg, ds)
	recon, err := res.Model.Reconstruct(s.TestInputs, s.NTest)
	if err != nil {
		t.Fatal(err)
	}

	peer, err := StartPeerRun(store, Spec{Config: cfg, Name: "denoise (pytorch)", Section: "1.4", Source: "test"},
		PeerEnv{Name: "pytorch", Info: "PyTorch (test)", Device: "a CPU"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.History.Epochs {
		if err := peer.LogEpoch(e); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := peer.Finish(recon, s, ds.Test.Subset(cfg.TestSubset).Labels, true)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Test != res.Evaluation.Test || *ev.Denoising != *res.Evaluation.Denoising || ev.DigitMSE != res.Evaluation.DigitMSE {
		t.Errorf("peer evaluation %+v, aelab's %+v", ev, res.Evaluation)
	}

	own, err := store.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.GetRun(peer.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFinished || rec.Name != "denoise (pytorch)" || rec.Tags[TagPeer] != "pytorch" ||
		rec.Tags["env.backend"] != "pytorch" || rec.Tags["env.device"] != "a CPU" || rec.Tags["section"] != "1.4" {
		t.Errorf("peer run %s %s, tags %v", rec.Name, rec.Status, rec.Tags)
	}
	if own.Tags[TagPeer] != "" {
		t.Errorf("aelab's run is tagged peer=%q", own.Tags[TagPeer])
	}
	for key, v := range own.Metrics {
		got, ok := rec.Metrics[key]
		switch {
		case isSampled(key): // the machine while aelab trained; the peer trains in a process of its own
		case !ok:
			t.Errorf("the peer run lacks metric %s", key)
		case strings.HasPrefix(key, "test_") || strings.HasPrefix(key, "digit_mse_") || strings.Contains(key, "noisy") ||
			strings.Contains(key, "denoised") || key == "params" || key == "val_bce" || key == "final_train_loss" || key == "steps_per_epoch":
			if got != v {
				t.Errorf("metric %s: peer %v, aelab %v", key, got, v)
			}
		}
	}
	hist, err := store.MetricHistory(rec.ID, "val_bce")
	if err != nil || len(hist) != len(res.History.Epochs) {
		t.Fatalf("val_bce history %+v, %v", hist, err)
	}
	if len(rec.Artifacts) != 0 {
		t.Errorf("the peer run has artifacts %+v; the peer keeps no checkpoint", rec.Artifacts)
	}
	if _, _, err := Reproduce(context.Background(), store, rec.ID, Options{}); err == nil || !strings.Contains(err.Error(), "--peer pytorch") {
		t.Errorf("reproducing a peer run: %v", err)
	}
}

func TestPeerRunFailsOnBadReconstructions(t *testing.T) {
	store := openTestStore(t)
	cfg := tinyConfig(t, aelib.ModelVanilla)
	if _, err := StartPeerRun(store, Spec{Config: cfg}, PeerEnv{}); err == nil {
		t.Error("a peer without a name: want an error")
	}
	peer, err := StartPeerRun(store, Spec{Config: cfg}, PeerEnv{Name: "pytorch"})
	if err != nil {
		t.Fatal(err)
	}
	s := aelib.Splits{NTest: 3, TestInputs: make([]float32, 3*784), TestTargets: make([]float32, 3*784)}
	if _, err := peer.Finish(make([]float32, 784), s, nil, false); err == nil {
		t.Fatal("one image of reconstructions for three: want an error")
	}
	rec, err := store.GetRun(peer.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFailed || !strings.Contains(rec.Error, "reconstructed values") {
		t.Errorf("run %s: %s", rec.Status, rec.Error)
	}
}

func isSampled(key string) bool {
	m, ok := LookupMetric(key)
	return ok && m.Kind == Sampled
}
