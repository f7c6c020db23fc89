package sweeps

import (
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aelab/aelab/aelib"
)

// configFlags is the set of config settings a spec may name, as flags writing into cfg: the
// same names as `aelab train`'s flags, so a spec reads like a command line.
//
// TODO(harden): replace with the one config flag set once it lands in aelib.
func configFlags(cfg *aelib.Config) *flag.FlagSet {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Dataset, "dataset", cfg.Dataset, "data set: mnist or fashion")
	fs.StringVar(&cfg.Backend, "backend", cfg.Backend, "GoMLX backend config")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "batch size")
	fs.IntVar(&cfg.TrainSubset, "subset", cfg.TrainSubset, "train on the first N training images")
	fs.IntVar(&cfg.TestSubset, "test-subset", cfg.TestSubset, "validate on the first N test images")
	fs.Float64Var(&cfg.LearningRate, "lr", cfg.LearningRate, "Adam learning rate")
	fs.Float64Var(&cfg.Noise, "noise", cfg.Noise, "Gaussian noise factor on the inputs")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.Filters, "filters", cfg.Filters, "convolutional model: filters per conv layer")
	fs.Func("widths", "dense models: encoder widths, e.g. 256,128,32", func(s string) error {
		var w []int
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				return fmt.Errorf("widths are whole numbers > 0 separated by commas, got %q", s)
			}
			w = append(w, n)
		}
		cfg.Widths = w
		return nil
	})
	fs.StringVar(&cfg.Penalty, "penalty", cfg.Penalty, "sparse: kl or l1")
	fs.Float64Var(&cfg.Rho, "rho", cfg.Rho, "sparse, kl: target mean activation")
	fs.Float64Var(&cfg.Lambda, "lambda", cfg.Lambda, "sparse and contractive: weight of the penalty")
	fs.Float64Var(&cfg.Beta, "beta", cfg.Beta, "vae: weight of the KL term")
	fs.IntVar(&cfg.LatentDim, "latent", cfg.LatentDim, "vae: code size")
	return fs
}

// paramNames lists the settings a spec may name, sorted.
func paramNames() []string {
	var names []string
	configFlags(&aelib.Config{}).VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	return names
}

// checkParamName reports a name that is not a config setting, listing the valid ones.
func checkParamName(name string) error {
	if name == "model" {
		return nil // the callers say where the model goes
	}
	if configFlags(&aelib.Config{}).Lookup(name) == nil {
		return fmt.Errorf("unknown parameter %q (valid: %s)", name, strings.Join(paramNames(), ", "))
	}
	return nil
}

// setParam sets one config setting from its text.
func setParam(cfg *aelib.Config, name, value string) error {
	fs := configFlags(cfg)
	f := fs.Lookup(name)
	if f == nil {
		return checkParamName(name)
	}
	err := fs.Set(name, value)
	if want := expected(f); want != "" {
		v, _ := f.Value.(flag.Getter).Get().(float64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("expected %s, got %q", want, value)
		}
	}
	return err
}

// expected says what a numeric flag takes ("" for others, whose errors say it themselves).
func expected(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case int:
		return "a whole number"
	case uint64:
		return "a whole number >= 0"
	case float64:
		return "a finite number"
	}
	return ""
}

// modelNames are the models a sweep may start from.
func modelNames() []string { return slices.Clone(aelib.Models()) }

// metricInfo is what a sweep needs to know of a metric.
//
// TODO(harden): read these from the metric schema in experiments once it lands.
var metricInfo = []Metric{
	{Name: "val_bce", LowerIsBetter: true, PerEpoch: true},
	{Name: "val_mse", LowerIsBetter: true, PerEpoch: true},
	{Name: "val_mae", LowerIsBetter: true, PerEpoch: true},
	{Name: "train_loss", LowerIsBetter: true, PerEpoch: true},
	{Name: "test_bce", LowerIsBetter: true},
	{Name: "test_mse", LowerIsBetter: true},
	{Name: "test_mae", LowerIsBetter: true},
	{Name: "test_psnr"},
	{Name: "test_ssim"},
	{Name: "test_pearson"},
	{Name: "denoised_mse", LowerIsBetter: true},
	{Name: "denoised_psnr"},
	{Name: "denoised_ssim"},
	{Name: "improvement_pct"},
	{Name: "seconds_per_epoch", LowerIsBetter: true},
}

// DefaultMetric is what a sweep optimises unless its spec says otherwise.
const DefaultMetric = "val_bce"

// LookupMetric returns what the metric schema says of a metric name.
func LookupMetric(name string) (Metric, error) {
	for _, m := range metricInfo {
		if m.Name == name {
			return m, nil
		}
	}
	names := make([]string, len(metricInfo))
	for i, m := range metricInfo {
		names[i] = m.Name
	}
	return Metric{}, fmt.Errorf("unknown metric %q (known: %s)", name, strings.Join(names, ", "))
}

func perEpochMetrics() []string {
	var out []string
	for _, m := range metricInfo {
		if m.PerEpoch {
			out = append(out, m.Name)
		}
	}
	return out
}

// EpochValue is the value of a per-epoch metric in one epoch's measurements.
//
// TODO(harden): the metric schema maps names to EpochMetrics fields.
func EpochValue(name string, m aelib.EpochMetrics) (float64, bool) {
	switch name {
	case "val_bce":
		return m.ValLoss, true
	case "val_mse":
		return m.ValMSE, true
	case "val_mae":
		return m.ValMAE, true
	case "train_loss":
		return m.TrainLoss, true
	}
	return 0, false
}
