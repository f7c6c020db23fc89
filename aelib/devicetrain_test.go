package aelib

import (
	"context"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
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
			// The whole training state came back into the store, where train.Trainer keeps it:
			// weights, Adam's moments and step, the global step.
			compareStores(t, host, dev, 1e-4)
			// Inference sees the trained model.
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

// A run continues where the previous Train call stopped, whichever loop ran it: device then
// host is host then host, Adam's moments and step included (a fresh Adam would diverge).
func TestTrainContinuesAcrossLoops(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 1, 300, 100, 100
	s := smallSplits(t, cfg)
	mixed, host := newTestAE(t, cfg, "go"), newTestAE(t, cfg, "go")
	train := func(ae *Autoencoder, device bool) *History {
		t.Helper()
		var h *History
		var err error
		if device {
			h, err = ae.trainOnDevice(context.Background(), s, TrainOptions{}, false)
		} else {
			h, err = ae.Train(context.Background(), s, TrainOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	train(mixed, true)
	train(host, false)
	m, h := train(mixed, false), train(host, false)
	if got, want := m.Epochs[0].Step, h.Epochs[0].Step; got != want || got != 6 {
		t.Errorf("global step after the second call: device-then-host %d, host-then-host %d, want 6", got, want)
	}
	if relDiff(m.Epochs[0].TrainLoss, h.Epochs[0].TrainLoss) > 1e-4 {
		t.Errorf("second call's train loss: device-then-host %g, host-then-host %g", m.Epochs[0].TrainLoss, h.Epochs[0].TrainLoss)
	}
	compareStores(t, host, mixed, 1e-4)
}

// compareStores checks that a and b hold the same training state — weights, Adam's variables,
// global step — with the same values (floats within tol, relative to the largest magnitude of
// each variable). train.Trainer's own bookkeeping (metrics, last step) is not compared.
func compareStores(t *testing.T, a, b *Autoencoder, tol float64) {
	t.Helper()
	values := func(ae *Autoencoder) map[string]*tensors.Tensor {
		out := map[string]*tensors.Tensor{}
		for v := range ae.store.RootScope().IterVariables() {
			p := v.Path()
			if strings.HasPrefix(p, "/"+modelScope+"/") || strings.HasPrefix(p, "/AdamOptimizer/") || p == "/global_step" {
				out[p] = v.MustValue()
			}
		}
		return out
	}
	va, vb := values(a), values(b)
	for _, p := range slices.Sorted(maps.Keys(va)) {
		ta, tb := va[p], vb[p]
		if tb == nil {
			t.Errorf("%s: missing from the second store", p)
			continue
		}
		if !ta.Shape().Equal(tb.Shape()) {
			t.Errorf("%s: shapes %s vs %s", p, ta.Shape(), tb.Shape())
			continue
		}
		if ta.DType() != dtypes.Float32 {
			if !reflect.DeepEqual(ta.Value(), tb.Value()) {
				t.Errorf("%s: %v vs %v", p, ta.Value(), tb.Value())
			}
			continue
		}
		fa, fb := tensors.MustCopyFlatData[float32](ta), tensors.MustCopyFlatData[float32](tb)
		var scale, worst float64
		for i := range fa {
			scale = max(scale, math.Abs(float64(fa[i])))
			worst = max(worst, math.Abs(float64(fa[i]-fb[i])))
		}
		if worst > tol*max(scale, 1e-12) {
			t.Errorf("%s: values differ by up to %g (largest magnitude %g)", p, worst, scale)
		}
	}
	for p := range vb {
		if va[p] == nil {
			t.Errorf("%s: missing from the first store", p)
		}
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
	if onnxForTests(t) {
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
