package aelib

import (
	"context"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aelab/aelab/internal/testenv"
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

// A run continues where the previous Train call stopped, whichever trainer ran it: aelib's
// engine then GoMLX's train.Trainer is GoMLX's trainer twice, Adam's moments and step included
// (a fresh Adam would diverge): the engines keep their state where optimizer.Adam does.
func TestTrainContinuesWithGoMLXTrainer(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 1, 300, 100, 100
	s := smallSplits(t, cfg)
	mixed, reference := newTestAE(t, cfg, "go"), newTestAE(t, cfg, "go")
	if _, err := mixed.Train(context.Background(), s, TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	trainWithGoMLX(t, reference, s, 1)
	m, r := trainWithGoMLX(t, mixed, s, 1), trainWithGoMLX(t, reference, s, 1)
	if got, want := m[0].Step, r[0].Step; got != want || got != 6 {
		t.Errorf("global step after the second call: engine-then-GoMLX %d, GoMLX twice %d, want 6", got, want)
	}
	if relDiff(m[0].TrainLoss, r[0].TrainLoss) > 1e-4 {
		t.Errorf("second call's train loss: engine-then-GoMLX %g, GoMLX twice %g", m[0].TrainLoss, r[0].TrainLoss)
	}
	compareStores(t, reference, mixed, 1e-4)
}

// On the pure-Go backend every model trains with the host-driven step and graph.Gradient, and
// follows GoMLX's train.Trainer step for step: the plain models, the conv model (last batch 8
// of 16), and the models with a penalty and random draws (sparse, vae).
func TestHostStepMatchesGoMLXTrainer(t *testing.T) {
	for _, tc := range []struct {
		model        string
		train, batch int
	}{
		{ModelVanilla, 600, 256}, // 3 steps per epoch, the last one partial (88 of 256)
		{ModelDenoise, 24, 16},   // conv, pool, upsample; last batch 8 of 16
		{ModelSparse, 600, 256},
		{ModelVAE, 600, 256},
	} {
		t.Run(tc.model, func(t *testing.T) {
			if tc.model == ModelDenoise {
				testenv.Slow(t, "the conv model on the pure-Go backend")
			}
			cfg, _ := DefaultConfig(tc.model)
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, tc.train, 100, tc.batch
			s := smallSplits(t, cfg)
			engine, reference := trainAndCompare(t, cfg, Architecture{}, "go", TrainOptions{}, s, 1e-4)
			if got := engine.Loop(TrainOptions{}); got != "host" {
				t.Errorf("engine on the pure-Go backend: %q, want the host-driven step with graph.Gradient", got)
			}
			// Inference sees the trained model.
			img := s.TestInputs[:784]
			a, err := reference.Reconstruct(img, 1)
			if err != nil {
				t.Fatal(err)
			}
			b, err := engine.Reconstruct(img, 1)
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

// The engine is chosen in one place from what the backend can do: the device loop on XLA (every
// model, penalties included), the host-driven step with hand-written gradients on ONNX Runtime,
// the host-driven step with graph.Gradient on the pure-Go backend and whenever HostLoop asks.
func TestEngineChoice(t *testing.T) {
	for _, tc := range []struct {
		backend string
		opts    TrainOptions
		want    engineChoice
	}{
		{"xla", TrainOptions{}, engineChoice{device: true}},
		{"xla", TrainOptions{HostLoop: true}, engineChoice{}},
		{"onnxruntime", TrainOptions{}, engineChoice{hand: true}},
		{"onnxruntime", TrainOptions{HostLoop: true}, engineChoice{}},
		{"Go Backend", TrainOptions{}, engineChoice{}},
	} {
		if got := chooseEngine(opsFor(tc.backend), tc.opts); got != tc.want {
			t.Errorf("%s with %+v: %+v, want %+v", tc.backend, tc.opts, got, tc.want)
		}
	}
	for _, m := range Models() {
		cfg, _ := DefaultConfig(m)
		if ae := newTestAE(t, cfg, "go"); ae.UsesDeviceLoop() || ae.Loop(TrainOptions{}) != "host" {
			t.Errorf("%s on the pure-Go backend: loop %q", m, ae.Loop(TrainOptions{}))
		}
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
