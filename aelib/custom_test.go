package aelib

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// A program's own architecture, with layer kinds and an activation that have no hand-written
// gradient (Dropout, tanh) and a penalty of its own, trains through Train on ONNX Runtime (hand
// gradients where the layers have them, graph.Gradient for the rest) and on the pure-Go backend,
// and follows GoMLX's own train.Trainer step for step: the same losses, dropout masks included,
// and the same weights and Adam state.
func TestCustomLayerWithoutHandGradientTrains(t *testing.T) {
	arch := customArchitecture()
	if arch.Layers[1].HasHandGradient() || arch.Layers[2].HasHandGradient() || !arch.Layers[0].HasHandGradient() {
		t.Fatal("the test architecture should mix layers with and without hand-written gradients")
	}
	backends := testBackends(t)
	for _, tc := range []struct{ backend, loop string }{{"onnx", "step"}, {"go", "host"}} {
		t.Run(tc.backend, func(t *testing.T) {
			if backends[tc.backend] == nil { // testBackends has failed the test on CI
				t.Skipf("no %s backend here: build with -tags onnx and run `make setup`", tc.backend)
			}
			cfg, _ := DefaultConfig(ModelVanilla)
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, 600, 100, 256 // last batch 88 of 256
			engine, _ := trainAndCompare(t, cfg, arch, backendConfigs[tc.backend], TrainOptions{}, smallSplits(t, cfg), 1e-4)
			if got := engine.Loop(TrainOptions{}); got != tc.loop {
				t.Errorf("engine %q, want %q", got, tc.loop)
			}
			if engine.Config.Model != arch.Name || engine.NumParams() != 784*64+64+64*16+16+16*64+64+64*784+784 {
				t.Errorf("model %q with %d parameters", engine.Config.Model, engine.NumParams())
			}
			// Dropout drops in training only: inference is deterministic.
			img := smallSplits(t, cfg).TestInputs[:784]
			a, errA := engine.Reconstruct(img, 1)
			b, errB := engine.Reconstruct(img, 1)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			compareTensors(t, "two reconstructions", tensors.FromValue(a), tensors.FromValue(b), 0)
		})
	}
}

// NewCustom refuses an architecture that cannot train, with one line that says why.
func TestNewCustomRefusesBadArchitectures(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Backend = "go"
	good := customArchitecture()
	for _, tc := range []struct {
		name string
		edit func(a *Architecture)
		want string
	}{
		{"registry name", func(a *Architecture) { a.Name = ModelDeep }, `needs a name of its own, not "deep"`},
		{"unknown kind", func(a *Architecture) { a.Layers[1].Kind = "BatchNorm" }, `layer enc_dropout: unknown kind "BatchNorm"`},
		{"bad rate", func(a *Architecture) { a.Layers[1].Rate = 1 }, "Dropout needs a rate in [0,1), got 1"},
		{"no sigmoid output", func(a *Architecture) { a.Layers[4].Activation = ActReLU }, "must be the sigmoid output"},
		{"dense on an image", func(a *Architecture) {
			a.Layers = append([]Layer{{Name: "img", Kind: KindReshape, Shape: []int{28, 28, 1}, Encoder: true}}, a.Layers...)
		}, "Dense needs a flat input (Reshape first)"},
		{"penalty without a term", func(a *Architecture) { a.Penalties = []Penalty{{Name: "l2"}} }, `a penalty needs a name and a Term, got "l2"`},
		{"same layer name twice", func(a *Architecture) { a.Layers[2].Name = a.Layers[0].Name }, "every layer needs a name of its own"},
	} {
		a := good
		a.Layers = append([]Layer(nil), good.Layers...)
		tc.edit(&a)
		if _, err := NewCustom(a, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewCustom(good, cfg); err != nil {
		t.Errorf("good architecture: %v", err)
	}
}

// A program's own model saves its layers beside its config: Load brings it back, reconstructing
// as it did, its penalties by name only, so training it again needs their terms set and says so.
func TestCustomCheckpointRoundTrip(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Backend, cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = "go", 1, 256, 64
	ae, err := NewCustom(customArchitecture(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := smallSplits(t, cfg)
	if _, err := ae.Train(context.Background(), s, TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := ae.Save(dir); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMLX_BACKEND", "go")
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !back.custom || back.Config.Model != ae.Arch.Name || len(back.Arch.Layers) != len(ae.Arch.Layers) ||
		back.Arch.Layers[1].Rate != 0.2 || back.Arch.LossName() != "bce+code_l2" {
		t.Errorf("loaded %s %+v", back.Config.Model, back.Arch)
	}
	img := s.TestInputs[:784]
	a, errA := ae.Reconstruct(img, 1)
	b, errB := back.Reconstruct(img, 1)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	compareTensors(t, "reconstruction after Load", tensors.FromValue(b), tensors.FromValue(a), 1e-6)
	_, err = back.Train(context.Background(), s, TrainOptions{})
	if want := `a penalty needs a name and a Term, got "code_l2"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("training a loaded model without its penalty's term: %v, want %q", err, want)
	}
}
