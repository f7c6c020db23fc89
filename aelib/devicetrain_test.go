package aelib

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// smallSplits is MNIST cut to cfg's subsets.
func smallSplits(t *testing.T, cfg Config) Splits {
	t.Helper()
	return PrepareSplits(cfg, loadMNIST(t))
}

func newTestAE(t *testing.T, cfg Config, backend string) *Autoencoder {
	t.Helper()
	cfg.Backend = backend
	ae, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s on %s): %v", cfg.Model, backend, err)
	}
	return ae
}

// The device step (hand-written Adam on plain weight nodes, batches gathered by the
// permutation, padding masked) must follow the host loop (train.Trainer, optimizer.Adam)
// step for step: same losses, same weights. It runs here in step mode on the pure-Go backend;
// on XLA the same step is the body of the epoch's While.
func TestDeviceStepMatchesHostLoop(t *testing.T) {
	for _, tc := range []struct {
		model        string
		train, batch int
	}{
		{ModelVanilla, 600, 256}, // 3 steps per epoch, the last one partial (88 of 256)
		{ModelDenoise, 24, 16},   // conv, pool, upsample; last batch 8 of 16
	} {
		t.Run(tc.model, func(t *testing.T) {
			cfg, _ := DefaultConfig(tc.model)
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, tc.train, 100, tc.batch
			s := smallSplits(t, cfg)
			host, dev := newTestAE(t, cfg, "go"), newTestAE(t, cfg, "go")
			hh, err := host.Train(context.Background(), s, TrainOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dh, err := dev.trainOnDevice(context.Background(), s, TrainOptions{}, false)
			if err != nil {
				t.Fatal(err)
			}
			if hh.StepsPerEpoch != dh.StepsPerEpoch || len(hh.Epochs) != len(dh.Epochs) {
				t.Fatalf("host %d steps × %d epochs, device %d × %d", hh.StepsPerEpoch, len(hh.Epochs), dh.StepsPerEpoch, len(dh.Epochs))
			}
			for i := range hh.Epochs {
				h, d := hh.Epochs[i], dh.Epochs[i]
				t.Logf("epoch %d: host loss %.7f val %.7f | device loss %.7f val %.7f", i+1, h.TrainLoss, h.ValLoss, d.TrainLoss, d.ValLoss)
				if relDiff(h.TrainLoss, d.TrainLoss) > 1e-4 || relDiff(h.ValLoss, d.ValLoss) > 1e-4 {
					t.Errorf("epoch %d: host loss %g val %g, device loss %g val %g", i+1, h.TrainLoss, h.ValLoss, d.TrainLoss, d.ValLoss)
				}
				if h.Step != d.Step {
					t.Errorf("epoch %d: host step %d, device step %d", i+1, h.Step, d.Step)
				}
			}
			// The weights came back into the store: inference sees the trained model.
			img := s.TestInputs[:784]
			a, err := host.Reconstruct(img, 1)
			if err != nil {
				t.Fatal(err)
			}
			b, err := dev.Reconstruct(img, 1)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i := range a {
				worst = max(worst, math.Abs(float64(a[i]-b[i])))
			}
			if worst > 1e-4 {
				t.Errorf("reconstructions differ by up to %g", worst)
			}
		})
	}
}

func relDiff(a, b float64) float64 {
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b), 1e-12)
}

// The device loop is for XLA and the plain-BCE models only.
func TestUsesDeviceLoop(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	if ae := newTestAE(t, cfg, "go"); ae.UsesDeviceLoop() {
		t.Error("pure-Go backend must keep the host loop")
	}
}

// trainLosses trains cfg on a backend (host loop), from the weights of init when it is not nil,
// and returns each epoch's train and val loss.
func trainLosses(t *testing.T, cfg Config, backend string, init *Autoencoder) []float64 {
	t.Helper()
	ae := newTestAE(t, cfg, backend)
	if init != nil {
		copyWeights(t, ae, init)
	}
	h, err := ae.Train(context.Background(), smallSplits(t, cfg), TrainOptions{})
	if err != nil {
		t.Fatalf("%s on %s: %v", cfg.Model, backend, err)
	}
	var out []float64
	for _, e := range h.Epochs {
		out = append(out, e.TrainLoss, e.ValLoss)
	}
	return out
}

// 20 steps of vanilla on 1,000 images from the same initial weights: the same seed gives the
// same losses on a backend, and the pure-Go backend and ONNX Runtime agree within 1 %.
func TestLossesSeededAndAcrossBackends(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 1, 1000, 500, 50 // 20 steps
	backends := []string{"go"}
	if onnxBuilt && findONNXRuntime(hostBackendEnv()) != "" {
		backends = append(backends, "onnx:cpu")
	} else {
		t.Log("no ONNX Runtime (build with -tags onnx, run `make setup`): pure Go only")
	}
	// GoMLX draws the Glorot weights on the backend, so each backend starts elsewhere: all
	// runs start from the pure-Go backend's initial weights.
	init := newTestAE(t, cfg, "go")
	if err := init.Initialize(); err != nil {
		t.Fatal(err)
	}
	var ref []float64
	for _, b := range backends {
		first, second := trainLosses(t, cfg, b, init), trainLosses(t, cfg, b, init)
		t.Logf("%s: train loss %.6f, val loss %.6f", b, first[0], first[1])
		if !slices.Equal(first, second) {
			t.Errorf("%s: same seed, different losses: %v vs %v", b, first, second)
		}
		if ref == nil {
			ref = first
			continue
		}
		for i := range ref {
			if d := relDiff(ref[i], first[i]); d > 0.01 {
				t.Errorf("%s vs %s: loss %d is %g vs %g (%.2f %% apart)", backends[0], b, i, ref[i], first[i], 100*d)
			}
		}
	}
}

// copyWeights gives dst (initialized here) the values of src's model variables.
func copyWeights(t *testing.T, dst, src *Autoencoder) {
	t.Helper()
	if err := dst.Initialize(); err != nil {
		t.Fatal(err)
	}
	for v := range src.store.RootScope().At(modelScope).IterVariables() {
		values := tensors.MustCopyFlatData[float32](v.MustValue())
		d := dst.store.GetVariable(v.Path())
		if d == nil {
			t.Fatalf("no variable %s in the copy", v.Path())
		}
		if err := d.SetValue(tensors.FromFlatDataAndDimensions(values, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
	}
}
