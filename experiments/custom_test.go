package experiments

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/tracker"
	"github.com/gomlx/gomlx/core/graph"
)

// customArch is a small program-defined autoencoder: dense layers, dropout, and optionally an
// L2 penalty on the code.
func customArch(name string, withPenalty bool) aelib.Architecture {
	arch := aelib.Architecture{Name: name, Input: []int{data.Pixels}, Layers: []aelib.Layer{
		{Name: "enc1", Kind: aelib.KindDense, Units: 64, Activation: aelib.ActReLU, Encoder: true},
		{Name: "drop", Kind: aelib.KindDropout, Rate: 0.1, Encoder: true},
		{Name: "code", Kind: aelib.KindDense, Units: 16, Activation: aelib.ActReLU, Encoder: true},
		{Name: "dec1", Kind: aelib.KindDense, Units: 64, Activation: aelib.ActReLU},
		{Name: "output", Kind: aelib.KindDense, Units: data.Pixels, Activation: aelib.ActSigmoid},
	}}
	if withPenalty {
		arch.Penalties = []aelib.Penalty{{Name: "code_l2", Term: func(t aelib.Trace) *graph.Node {
			perExample := graph.ReduceSum(graph.Square(t.Code()), 1)
			return graph.MulScalar(aelib.MaskedMean(perExample, t.Mask()), 1e-3)
		}}}
	}
	return arch
}

// customSpec is a tracked 2-epoch run of arch on a small subset.
func customSpec(t *testing.T, arch aelib.Architecture) Spec {
	t.Helper()
	cfg := tinyConfig(t, aelib.ModelVanilla)
	return Spec{Config: cfg, Arch: &arch, Experiment: "custom", Source: "test"}
}

func TestRunCustomArchitectureTracked(t *testing.T) {
	store := openTestStore(t)
	arch := customArch("my-ae", true)
	res, err := Run(context.Background(), store, customSpec(t, arch), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFinished || rec.Name != "my-ae" || rec.Experiment != "custom" {
		t.Errorf("run: status %s, name %s, experiment %s", rec.Status, rec.Name, rec.Experiment)
	}
	for key, want := range map[string]string{"model": "my-ae", "loss": "bce+code_l2", "epochs": "2", "train_subset": "512",
		"optimizer": "adam", "architecture": "784 → 64 → 16", "dataset": data.MNIST} {
		if rec.Params[key] != want {
			t.Errorf("param %s = %q, want %q", key, rec.Params[key], want)
		}
	}
	if _, ok := rec.Params["widths"]; ok {
		t.Errorf("a custom run has the registry's widths param %q", rec.Params["widths"])
	}
	summary, err := arch.Summary()
	if err != nil {
		t.Fatal(err)
	}
	total, enc, dec := arch.Params()
	for name, want := range map[string]int{ParamCount.Name: summary.Total, EncoderParams.Name: enc, DecoderParams.Name: dec} {
		if got := rec.Metrics[name]; got != float64(want) || want == 0 {
			t.Errorf("metric %s = %v, want %d (total %d)", name, got, want, total)
		}
	}
	hists, err := store.MetricHistories(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Metrics() {
		if m.Kind == PerEpoch && len(hists[m.Name]) != 2 {
			t.Errorf("per-epoch %s has %d points, want 2", m.Name, len(hists[m.Name]))
		}
	}
	for _, m := range []Metric{TestBCE, TestMSE, TestSSIM, TrainSeconds} {
		if _, ok := rec.Metrics[m.Name]; !ok {
			t.Errorf("final %s not logged", m.Name)
		}
	}
	if Checkpoint(rec) == "" {
		t.Fatal("no checkpoint artifact")
	}

	// The stored config reproduces the architecture; ConfigOf still reads the settings.
	cfg, err := ConfigOf(rec)
	if err != nil || cfg.Model != "my-ae" || cfg.Epochs != 2 || cfg.TrainSubset != 512 {
		t.Errorf("ConfigOf: %+v, %v", cfg, err)
	}
	stored, err := ArchitectureOf(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored.Layers, arch.Layers) || stored.Name != arch.Name || stored.LossName() != "bce+code_l2" {
		t.Errorf("stored architecture %+v, want %+v", stored, arch)
	}
	if s, err := stored.Summary(); err != nil || s.Total != summary.Total {
		t.Errorf("stored architecture's summary: %d parameters, %v; want %d", s.Total, err, summary.Total)
	}
	_, ae, err := Latest(store, `params.model = "my-ae"`)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ae.Arch.Layers, arch.Layers) {
		t.Errorf("checkpoint's layers %+v", ae.Arch.Layers)
	}

	// Its penalty is code: Reproduce says so instead of training something else.
	if _, _, err := Reproduce(context.Background(), store, rec.ID, Options{}); !errors.Is(err, errPenaltyCode) ||
		!strings.Contains(err.Error(), "code_l2") {
		t.Errorf("Reproduce of a custom run with a penalty: %v", err)
	}
}

func TestReproduceCustomArchitecture(t *testing.T) {
	store := openTestStore(t)
	spec := customSpec(t, customArch("plain-ae", false))
	spec.Config.Epochs = 1
	res, err := Run(context.Background(), store, spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	orig, again, err := Reproduce(context.Background(), store, res.RunID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.GetRun(again.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Tags["reproduces"] != orig.ID || rec.Params["model"] != "plain-ae" ||
		!reflect.DeepEqual(again.Model.Arch.Layers, spec.Arch.Layers) {
		t.Errorf("reproduction: tags %v, params %v, layers %+v", rec.Tags, rec.Params, again.Model.Arch.Layers)
	}
	// Same seed, same data, same layers: the same first-epoch loss.
	if a, b := res.History.Epochs[0].TrainLoss, again.History.Epochs[0].TrainLoss; a != b {
		t.Errorf("first-epoch loss %v, reproduced %v", a, b)
	}
}

func TestRunCustomArchitectureRefused(t *testing.T) {
	t.Setenv(aelib.MemoryLimitEnv, "8G")
	for _, tc := range []struct {
		arch aelib.Architecture
		want string
	}{
		{customArch(aelib.ModelDeep, false), "needs a name of its own"},
		{customArch("", false), "needs a name of its own"},
		{aelib.Architecture{Name: "bad", Input: []int{data.Pixels}, Layers: []aelib.Layer{{Name: "x", Kind: "Nope"}}}, "architecture bad"},
		{aelib.Dense("wide", data.Pixels, 1<<40, 16), "architecture wide is too large to train: a width past 16,777,216"},
		{aelib.Dense("wide", data.Pixels, 1<<24, 1<<24, 16), "more than aelab's limit of 1,000,000,000,000"},
		// Within the limits but not in this machine's memory: refused before anything is built.
		{aelib.Dense("wide", data.Pixels, 1<<23, 16), "model wide does not fit in memory: training it takes about 232.46 GB"},
	} {
		spec := Spec{Config: tinyConfig(t, aelib.ModelVanilla), Arch: &tc.arch}
		if _, err := Run(context.Background(), nil, spec, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.arch.Name, err, tc.want)
		}
	}
}

func TestCustomConfigFlags(t *testing.T) {
	arch := customArch("flagged", false)
	f := NewConfigFlags()
	cfg, err := f.CustomConfig(arch, true)
	if err != nil || cfg.Model != "flagged" || cfg.Epochs != CustomQuick.Epochs || cfg.TrainSubset != CustomQuick.TrainSubset || cfg.Widths != nil {
		t.Errorf("quick: %+v, %v", cfg, err)
	}
	if err := f.Set("epochs", "3"); err != nil {
		t.Fatal(err)
	}
	if cfg, err = f.CustomConfig(arch, true); err != nil || cfg.Epochs != 3 || cfg.TrainSubset != CustomQuick.TrainSubset {
		t.Errorf("--epochs=3 in quick mode: %+v, %v", cfg, err)
	}
	if err := f.Set("widths", "64,16"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CustomConfig(arch, false); err == nil || !strings.Contains(err.Error(), "--widths does not apply to the architecture flagged") {
		t.Errorf("--widths: %v", err)
	}
	if _, err := NewConfigFlags().CustomConfig(customArch(aelib.ModelVanilla, false), false); err == nil {
		t.Error("a registry model's name was accepted for a custom architecture")
	}
}

// A stored architecture is untrusted: one too large to train is refused when read back.
func TestArchitectureOfRefusesHugeStoredArchitecture(t *testing.T) {
	rec := &tracker.RunRecord{ID: "0123456789abcdef", Config: []byte(`{"model":"wide","dataset":"mnist","epochs":1,
		"architecture":{"name":"wide","input":[784],"layers":[{"name":"a","kind":"Dense","units":1099511627776,"encoder":true},
		{"name":"output","kind":"Dense","units":784,"activation":"sigmoid"}]}}`)}
	if _, err := ArchitectureOf(rec); err == nil || !strings.Contains(err.Error(), "too large to train") {
		t.Errorf("ArchitectureOf of a huge stored architecture: %v", err)
	}
}
