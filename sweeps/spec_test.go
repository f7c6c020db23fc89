package sweeps

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

const fullSpec = `# the denoiser's filters × noise, three seeds
name: denoise-grid
experiment: sweep-tests
model: denoise
base:
  epochs: 2
  subset: 2000
parameters:
  filters: [8, 16, 32]
  noise: [0.3, 0.5, 0.7]
seeds: [1, 2, 3]
metric: val_mse
early_stopping: {rule: median, min_trials: 4, warmup_epochs: 1}
max_parallel: 4
queue: gpu
max_attempts: 5
trial_timeout: 30m
`

func TestParseSpecReadsEveryField(t *testing.T) {
	s := mustParse(t, fullSpec)
	if s.Name != "denoise-grid" || s.Experiment != "sweep-tests" || s.Model != "denoise" || s.Method != MethodGrid ||
		s.Queue != QueueGPU || s.MaxAttempts != 5 || s.Timeout != 30*time.Minute || s.MaxParallel != 4 {
		t.Errorf("spec = %+v", s)
	}
	if len(s.Base) != 2 || s.Base[0] != (Setting{Name: "epochs", Value: "2", Line: 6}) {
		t.Errorf("base = %+v", s.Base)
	}
	if len(s.Parameters) != 2 || s.Parameters[1].Name != "noise" || s.Parameters[1].Line != 10 ||
		strings.Join(s.Parameters[1].Values, ",") != "0.3,0.5,0.7" {
		t.Errorf("parameters = %+v", s.Parameters)
	}
	if s.Metric != (Metric{Name: "val_mse", LowerIsBetter: true, PerEpoch: true}) {
		t.Errorf("metric = %+v", s.Metric)
	}
	if s.Stopping == nil || *s.Stopping != (Stopping{Rule: RuleMedian, MinTrials: 4, WarmupEpochs: 1}) {
		t.Errorf("stopping = %+v", s.Stopping)
	}
	if n := s.Count(); n != 27 {
		t.Errorf("Count = %d, want 3×3×3", n)
	}
}

func TestParseSpecDefaults(t *testing.T) {
	s := mustParse(t, "model: deep\nparameters: {lr: [0.001]}\n")
	if s.Name != "test" || s.Experiment != DefaultExperiment || s.Method != MethodGrid || s.Metric.Name != DefaultMetric ||
		s.Queue != QueueCPU || s.MaxAttempts != DefaultMaxAttempts || s.Timeout != DefaultTrialTimeout || s.Stopping != nil {
		t.Errorf("defaults = %+v", s)
	}
	asha := mustParse(t, "model: deep\nparameters: {lr: [0.001]}\nearly_stopping: {rule: asha}\n")
	if *asha.Stopping != (Stopping{Rule: RuleASHA, WarmupEpochs: 1, ReductionFactor: 3}) {
		t.Errorf("asha defaults = %+v", asha.Stopping)
	}
}

// Every malformed spec names its line and field.
func TestParseSpecErrorsNameLineAndField(t *testing.T) {
	for _, c := range []struct {
		src   string
		line  int
		field string
		msg   string
	}{
		{"model: deep\nparameters:\n\tlr: [0.001]\n", 3, "", "YAML: found character that cannot start any token"},
		{"model: deep\nparameters: {lr: [0.001]}\nbogus: 1\n", 3, "bogus", "unknown key (valid: name, experiment, model"},
		{"model: deep\nparameters:\n  lr: [0.001]\n  learning_rate: [0.01]\n", 4, "parameters.learning_rate",
			`unknown parameter "learning_rate" (valid: dataset, epochs, batch, subset, test-subset, lr, noise, seed, backend, widths, filters, penalty, rho, lambda, beta, latent)`},
		{"model: deep\nbase: {epoch: 3}\nparameters: {lr: [0.001]}\n", 2, "base.epoch", `unknown parameter "epoch"`},
		{"model: deep\nparameters:\n  epochs: [2, two]\n", 3, "parameters.epochs", `invalid value "two" for epochs: must be an integer >= 0`},
		{"model: deep\nparameters:\n  lr: [0.001, .nan]\n", 3, "parameters.lr", `invalid value ".nan" for lr: must be a finite number > 0`},
		{"model: deep\nparameters:\n  lr: [-0.1]\n", 3, "parameters.lr", `invalid value "-0.1" for lr`},
		{"model: vanilla\nparameters:\n  filters: [8, 16]\n", 3, "parameters.filters", "filters=8: --filters does not apply to model vanilla (only to denoise)"},
		{"model: deep\nbase: {epochs: -1}\nparameters: {lr: [0.001]}\n", 2, "base.epochs", `invalid value "-1" for epochs`},
		{"model: deep\nparameters:\n  lr: {log_uniform: [0.1, 0.01]}\nmethod: random\ntrials: 3\n", 3, "parameters.lr.log_uniform", "min 0.1 is above max 0.01"},
		{"model: deep\nparameters:\n  lr: {log_uniform: [0, 0.01]}\nmethod: random\ntrials: 3\n", 3, "parameters.lr.log_uniform", "needs min > 0"},
		{"model: deep\nparameters:\n  batch: {int_range: [16.5, 64]}\nmethod: random\ntrials: 3\n", 3, "parameters.batch.int_range", "whole numbers"},
		{"model: deep\nparameters:\n  lr: {gaussian: [0, 1]}\n", 3, "parameters.lr", `unknown kind "gaussian"`},
		{"model: deep\nparameters:\n  lr: {uniform: [0.001, 0.01]}\n", 3, "parameters.lr", "a grid needs a list of values"},
		{"model: deep\nparameters:\n  lr: [0.001]\nmethod: random\n", 1, "trials", "random search needs the number of trials"},
		{"model: deep\nparameters:\n  lr: [0.001]\nmethod: sideways\n", 4, "method", `unknown value "sideways" (valid: grid, random)`},
		{"model: deeper\nparameters: {lr: [0.001]}\n", 1, "model", `unknown model "deeper"`},
		{"parameters: {lr: [0.001]}\n", 1, "model", "missing"},
		{"model: deep\n", 1, "parameters", "at least one parameter"},
		{"model: deep\nparameters: {lr: [0.001]}\nmetric: val_loss\n", 3, "metric", `unknown metric "val_loss" (known: train_loss, val_bce`},
		{"model: deep\nparameters: {lr: [0.001]}\nmetric: test_ssim\nearly_stopping: {rule: median}\n", 3, "early_stopping", "needs a metric logged every epoch"},
		{"model: deep\nparameters: {lr: [0.001]}\nearly_stopping: {rule: median, reduction_factor: 3}\n", 3, "early_stopping.reduction_factor", "only for rule: asha"},
		{"model: deep\nparameters: {lr: [0.001]}\nearly_stopping: {rule: asha, reduction_factor: 1}\n", 3, "early_stopping.reduction_factor", "at least 2"},
		{"model: deep\nparameters: {lr: [0.001]}\nearly_stopping: {min_trials: 2}\n", 3, "early_stopping.rule", "missing"},
		{"model: deep\nparameters: {lr: [0.001, 0.001]}\n", 2, "parameters.lr", "given twice"},
		{"model: deep\nparameters: {seed: [1, 2]}\n", 2, "parameters.seed", "top-level key seeds"},
		{"model: deep\nparameters: {lr: [0.001]}\nseeds: [1, -2]\n", 3, "seeds", "whole number >= 0"},
		{"model: deep\nparameters: {lr: [0.001]}\ntrial_timeout: soon\n", 3, "trial_timeout", "duration"},
		{"model: deep\nparameters: {lr: [0.001]}\nmax_parallel: 0\n", 3, "max_parallel", "whole number > 0"},
		{"model: deep\nmodel: vanilla\nparameters: {lr: [0.001]}\n", 2, "model", "given twice (first at line 1)"},
		{"- model: deep\n", 1, "", "a spec is a mapping"},
		{"model: denoise\nparameters:\n  filters: [8, 0]\n", 3, "parameters.filters", `invalid value "0" for filters: must be an integer >= 1`},
		{"model: deep\nbase: {seed: 3}\nparameters: {lr: [0.001]}\nseeds: [1]\n", 2, "base.seed", "either base.seed or seeds"},
	} {
		_, err := ParseSpec("sweep.yaml", []byte(c.src))
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v, want a *SpecError", c.src, err)
			continue
		}
		if se.Line != c.line || se.Field != c.field || !strings.Contains(se.Msg, c.msg) || se.File != "sweep.yaml" {
			t.Errorf("%q:\n got  %d %q %q\n want %d %q …%q…", c.src, se.Line, se.Field, se.Msg, c.line, c.field, c.msg)
		}
		want := "sweep.yaml:" + strconv.Itoa(c.line) + ": "
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: message %q does not start with %q", c.src, err, want)
		}
	}
}

func TestGridTrialsInOrderTimesSeeds(t *testing.T) {
	s := mustParse(t, "model: denoise\nparameters:\n  filters: [8, 16]\n  noise: [0.3, 0.5, 0.7]\nseeds: [1, 2]\n")
	trials, err := s.ExpandTrials(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 12 {
		t.Fatalf("%d trials, want 2×3×2", len(trials))
	}
	var got []string
	for _, tr := range trials {
		got = append(got, tr.Describe(s.ParameterNames()))
	}
	if got[0] != "filters=8 noise=0.3 seed=1" || got[1] != "filters=8 noise=0.3 seed=2" || got[2] != "filters=8 noise=0.5 seed=1" ||
		got[11] != "filters=16 noise=0.7 seed=2" {
		t.Errorf("order: %q", got)
	}
	cfg, err := s.TrialConfig(trials[11])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Filters != 16 || cfg.Noise != 0.7 || cfg.Seed != 2 || cfg.Model != "denoise" || cfg.Epochs != 10 {
		t.Errorf("trial 11 config = %+v", cfg)
	}
}

func TestRandomTrialsAreReproducibleAndInRange(t *testing.T) {
	src := `model: vanilla
method: random
trials: 200
random_seed: 7
parameters:
  lr: {log_uniform: [1e-4, 1e-2]}
  noise: {uniform: [0.1, 0.2]}
  batch: {int_range: [16, 18]}
  dataset: [mnist, fashion]
`
	a, err := mustParse(t, src).ExpandTrials(false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mustParse(t, src).ExpandTrials(false)
	other, _ := mustParse(t, strings.Replace(src, "random_seed: 7", "random_seed: 8", 1)).ExpandTrials(false)
	if len(a) != 200 {
		t.Fatalf("%d trials", len(a))
	}
	names := mustParse(t, src).ParameterNames()
	batches, datasets := map[string]int{}, map[string]int{}
	var logSum float64
	same := 0
	for i, tr := range a {
		if tr.Describe(names) != b[i].Describe(names) {
			t.Fatalf("trial %d differs between two expansions of one spec", i)
		}
		if tr.Params["lr"] == other[i].Params["lr"] {
			same++
		}
		lr, _ := strconv.ParseFloat(tr.Params["lr"], 64)
		noise, _ := strconv.ParseFloat(tr.Params["noise"], 64)
		if lr < 1e-4 || lr > 1e-2 || noise < 0.1 || noise > 0.2 {
			t.Errorf("trial %d out of range: %v", i, tr.Params)
		}
		logSum += math.Log10(lr)
		batches[tr.Params["batch"]]++
		datasets[tr.Params["dataset"]]++
	}
	if same > 5 {
		t.Errorf("random_seed 7 and 8 drew the same lr %d times of 200", same)
	}
	if mean := logSum / 200; mean < -3.3 || mean > -2.7 {
		t.Errorf("mean log10(lr) %.2f: not log-uniform over [-4, -2]", mean)
	}
	if len(batches) != 3 || batches["16"] == 0 || batches["18"] == 0 || len(datasets) != 2 {
		t.Errorf("int range 16..18 drew %v, choice drew %v", batches, datasets)
	}
}

func TestLargeGridNeedsAllowLarge(t *testing.T) {
	s := mustParse(t, `model: vanilla
parameters:
  batch: [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 100, 200]
  lr: [0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.0006, 0.0007, 0.0008, 0.0009, 0.001]
seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9]
`)
	_, err := s.ExpandTrials(false)
	if err == nil || !strings.Contains(err.Error(), "makes 1,080 trials, more than 1000: pass --allow-large") {
		t.Fatalf("err = %v", err)
	}
	trials, err := s.ExpandTrials(true)
	if err != nil || len(trials) != 1080 {
		t.Fatalf("with AllowLarge: %d trials, %v", len(trials), err)
	}
}
