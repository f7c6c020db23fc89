package aelib

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The registry holds every model once, and every entry is complete: its defaults validate and
// build an architecture, its settings are Config fields, its quick settings shorten it.
func TestVariantRegistry(t *testing.T) {
	fields := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields[name] = true
	}
	seen := map[string]bool{}
	for _, v := range Variants() {
		if seen[v.Name] || v.Name == "" || v.Title == "" || v.architecture == nil {
			t.Errorf("%q: duplicate or incomplete entry", v.Name)
		}
		seen[v.Name] = true
		cfg, err := DefaultConfig(v.Name)
		if err != nil || cfg.Model != v.Name || cfg.Validate() != nil {
			t.Errorf("%s: default config %+v: %v, %v", v.Name, cfg, err, cfg.Validate())
		}
		for _, s := range append(slices.Clone(CommonSettings), v.Settings...) {
			if !fields[s] {
				t.Errorf("%s: setting %q is not a Config field", v.Name, s)
			}
		}
		q := cfg.Quick()
		if q.Epochs <= 0 || q.Epochs > cfg.Epochs || q.TrainSubset <= 0 || q.TestSubset <= 0 || q.Validate() != nil {
			t.Errorf("%s: quick settings %+v", v.Name, v.Quick)
		}
		if (v.measure == nil) != (len(v.Measures) == 0) {
			t.Errorf("%s: measures and their function disagree", v.Name)
		}
		// The loss a model names is its architecture's: the BCE and one term per penalty.
		arch := mustArch(t, cfg)
		if got, want := v.Loss(cfg), arch.LossName(); got != want || strings.Count(got, "+") != len(arch.Penalties) {
			t.Errorf("%s: loss %q, architecture's %q with %d penalties", v.Name, got, want, len(arch.Penalties))
		}
	}
	if !slices.Equal(Models()[:3], []string{ModelVanilla, ModelDeep, ModelDenoise}) || len(Models()) != len(seen) {
		t.Errorf("Models() = %v", Models())
	}
	// Callers get copies: changing one does not change the registry.
	v, _ := LookupVariant(ModelVanilla)
	v.Defaults.Widths[0] = 1
	if cfg, _ := DefaultConfig(ModelVanilla); cfg.Widths[0] != 256 {
		t.Error("a caller changed the registry's defaults")
	}
	if _, err := LookupVariant("pca"); err == nil || !strings.Contains(err.Error(), "known: vanilla, deep, denoise") {
		t.Errorf("unknown model: %v", err)
	}
}

// Validate refuses every non-finite number (issue #10, item 7: NaN passed `lr <= 0`), for
// library callers as for the flags.
func TestValidateRefusesNonFiniteNumbers(t *testing.T) {
	for name, breakIt := range map[string]func(*Config){
		"lr NaN":          func(c *Config) { c.LearningRate = math.NaN() },
		"lr Inf":          func(c *Config) { c.LearningRate = math.Inf(1) },
		"noise NaN":       func(c *Config) { c.Noise = math.NaN() },
		"noise Inf":       func(c *Config) { c.Noise = math.Inf(1) },
		"rho NaN":         func(c *Config) { c.Model, c.Rho = ModelSparse, math.NaN() },
		"lambda NaN":      func(c *Config) { c.Model, c.Lambda = ModelSparse, math.NaN() },
		"lambda Inf":      func(c *Config) { c.Model, c.Lambda = ModelContractive, math.Inf(1) },
		"beta Inf":        func(c *Config) { c.Model, c.LatentDim, c.Beta = ModelVAE, 16, math.Inf(1) },
		"beta NaN":        func(c *Config) { c.Model, c.LatentDim, c.Beta = ModelVAE, 16, math.NaN() },
		"unknown dataset": func(c *Config) { c.Dataset = "cifar" },
		"zero width":      func(c *Config) { c.Widths = []int{256, 0, 32} },
	} {
		cfg, _ := DefaultConfig(ModelSparse)
		cfg.Penalty = PenaltyKL
		breakIt(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
		if _, err := json.Marshal(cfg); err == nil && strings.Contains(name, "NaN") {
			t.Errorf("%s: json.Marshal accepted NaN", name) // why Validate must catch it first
		}
	}
}

// Unknown backends are one error line naming those built in (issue #10, item 6: a 17-line panic).
func TestUnknownBackendIsAnError(t *testing.T) {
	for _, config := range []string{"nosuch", ":", "nosuch:cpu"} {
		err := CheckBackend(config)
		if err == nil || !strings.Contains(err.Error(), "(backends here: ") || !strings.Contains(err.Error(), "go") || strings.Contains(err.Error(), "\n") {
			t.Errorf("CheckBackend(%q) = %v", config, err)
		}
		if _, err := NewBackendFor(BackendChoice{Config: config, Name: config, Reason: "test"}); err == nil {
			t.Errorf("NewBackendFor(%q): no error", config)
		}
	}
	if err := CheckBackend("go"); err != nil {
		t.Error(err)
	}
}

// ForData keeps subsets and the batch within the data (issue #10, items 2 and 10).
func TestConfigForData(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 100000, 500, 1000000
	eff, notes := cfg.ForData(60000, 10000)
	if eff.TrainSubset != 0 || eff.TestSubset != 500 || eff.BatchSize != 60000 || len(notes) != 2 {
		t.Errorf("ForData: %+v %q", eff, notes)
	}
	cfg.TrainSubset = 300
	if eff, _ := cfg.ForData(60000, 10000); eff.BatchSize != 300 || eff.TrainSubset != 300 {
		t.Errorf("batch over a 300-image subset: %+v", eff)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", -1234: "-1,234", 476720: "476,720",
		math.MinInt64: "-9,223,372,036,854,775,808", math.MaxInt64: "9,223,372,036,854,775,807"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzThousands: any int, the most negative included (it recursed forever: issue #10, item 4),
// reads back as itself without the commas, in groups of three.
func FuzzThousands(f *testing.F) {
	for _, n := range []int64{0, 7, -1000, 476720, math.MinInt64, math.MaxInt64} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		s := Thousands(int(n))
		back, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
		if err != nil || back != n {
			t.Fatalf("Thousands(%d) = %q", n, s)
		}
		groups := strings.Split(strings.TrimPrefix(s, "-"), ",")
		for i, g := range groups {
			if len(g) > 3 || len(g) == 0 || (i > 0 && len(g) != 3) {
				t.Fatalf("Thousands(%d) = %q: bad grouping", n, s)
			}
		}
	})
}

// FuzzBytes: any size formats without panicking, in one of Bytes' units.
func FuzzBytes(f *testing.F) {
	for _, n := range []int64{0, 1023, 1024, 1906880, -5, math.MinInt64, math.MaxInt64} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		s := Bytes(int(n))
		if !slices.ContainsFunc([]string{" B", " KB", " MB", " GB", " TB", " PB"}, func(unit string) bool { return strings.HasSuffix(s, unit) }) {
			t.Fatalf("Bytes(%d) = %q", n, s)
		}
	})
}

// A batch larger than the data costs the data's memory, not the setting's (issue #10, item 2:
// --batch 1000000 on 300 images padded every batch to a million rows, 20 GB). Here a 50,000
// batch on 300 training and 100 test images: the padded batches alone would be 600 MB of Go heap.
func TestTrainBatchLargerThanTheData(t *testing.T) {
	ds := loadMNIST(t)
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 1, 300, 100, 50000
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := PrepareSplits(cfg, ds)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	hist, err := ae.Train(context.Background(), s, TrainOptions{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if hist.StepsPerEpoch != 1 || ae.Config.BatchSize != 300 {
		t.Errorf("%d steps per epoch, batch %d; want 1 step of the 300 images", hist.StepsPerEpoch, ae.Config.BatchSize)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 100<<20 {
		t.Errorf("training 300 images allocated %d MB", grew>>20)
	}
}
