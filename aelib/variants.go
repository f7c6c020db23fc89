package aelib

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aelab/aelab/aelib/data"
)

// Variant is one model of aelab's registry. Everything that differs from one model to the next
// is a field of its entry in the variants table below, so a seventh model is one more entry
// there: defaults, architecture (layers and penalties, as a program defines its own), the
// settings it records as params, the measures it is judged by, and its quick settings.
type Variant struct {
	Name    string // Config.Model
	Title   string // one line for people
	Section string // the course section that builds it ("1.2"); "" for the models the course only names (§1.1.5)

	// Defaults are the model's settings; DefaultConfig returns a copy.
	Defaults Config
	// Settings are the JSON names of the Config fields beyond CommonSettings that the model
	// reads: they are recorded as the run's params, and only they may be set for this model.
	Settings []string
	// Quick are the short settings of a demo, a test or a headless notebook (see Config.Quick).
	Quick QuickSettings
	// Measures are what the model is for, measured after training by Autoencoder.Measure and
	// logged as final metrics; none for the course's models.
	Measures []Measure

	// architecture is the model the config describes: its layers and penalties.
	architecture func(c Config) (Architecture, error)
	validate     func(c Config) error // the model's own settings; nil when it has none
	// measure computes Measures, in their order, on n flat test images.
	measure func(ae *Autoencoder, images []float32, n int) ([]float64, error)
}

// QuickSettings shorten a model's training into a demo: few epochs on data subsets.
type QuickSettings struct {
	Epochs, TrainSubset, TestSubset int
}

// Measure is a number that says how well a model does what it is for (a sparse code, a
// contractive encoder), logged as a final metric of the run under Name.
type Measure struct {
	Name   string
	Title  string
	Unit   string // "" for a plain number
	Better Better
}

// Better says which way a number improves.
type Better int8

// Directions of Better.
const (
	NeitherBetter  Better = iota // a description, not a score
	LowerIsBetter                // a loss, an error, a time
	HigherIsBetter               // a similarity, a speed
)

// CommonSettings are the JSON names of the Config fields every model reads.
var CommonSettings = []string{"model", "dataset", "epochs", "batch_size", "learning_rate", "noise",
	"train_subset", "test_subset", "seed", "backend"}

// variants is the registry, in course order then the models beyond the course.
var variants = []Variant{
	{
		Name: ModelVanilla, Section: "1.2", Title: "Vanilla encoder and decoder (784-256-128-32)",
		Defaults:     Config{Widths: []int{256, 128, 32}, Epochs: 10, BatchSize: 256},
		Settings:     []string{"widths"},
		Quick:        QuickSettings{Epochs: 3, TrainSubset: 20000, TestSubset: 2000},
		architecture: denseArchitecture,
	},
	{
		Name: ModelDeep, Section: "1.3", Title: "Deep encoder and decoder (784-128-64-32)",
		Defaults:     Config{Widths: []int{128, 64, 32}, Epochs: 50, BatchSize: 256},
		Settings:     []string{"widths"},
		Quick:        QuickSettings{Epochs: 5, TrainSubset: 20000, TestSubset: 2000},
		architecture: denseArchitecture,
	},
	{
		Name: ModelDenoise, Section: "1.4", Title: "Convolutional denoising autoencoder",
		Defaults: Config{Filters: 32, Epochs: 10, BatchSize: 128, Noise: 0.5},
		Settings: []string{"filters"},
		// Convolutions are slow on a CPU: a subset, but enough steps to turn grey blurs into
		// clean digits (docs/performance.md, "Quick settings").
		Quick: QuickSettings{Epochs: 2, TrainSubset: 6000, TestSubset: 1000},
		architecture: func(c Config) (Architecture, error) {
			if c.Filters <= 0 {
				return Architecture{}, fmt.Errorf("model %s needs filters > 0, got %d", c.Model, c.Filters)
			}
			return ConvDenoising(c.Filters), nil
		},
	},
	{
		Name: ModelSparse, Title: "Sparse autoencoder (KL penalty on the code)",
		Defaults: Config{Widths: []int{256, 128, 32}, Epochs: 20, BatchSize: 256, Penalty: PenaltyKL, Rho: 0.05, Lambda: DefaultSparseLambda},
		Settings: []string{"widths", "penalty", "rho", "lambda"},
		Quick:    QuickSettings{Epochs: 3, TrainSubset: 20000, TestSubset: 2000},
		Measures: []Measure{
			{Name: "mean_activation", Title: "mean code activation", Better: LowerIsBetter},
			{Name: "near_zero_share", Title: "share of code values near zero", Better: HigherIsBetter},
			{Name: "dead_units", Title: "code units never active", Unit: "units"},
		},
		architecture: func(c Config) (Architecture, error) {
			if err := checkWidths(c); err != nil {
				return Architecture{}, err
			}
			return Sparse(data.Pixels, c.Penalty, c.Rho, c.Lambda, c.Widths...), nil
		},
		validate: func(c Config) error {
			switch {
			case c.Penalty != PenaltyKL && c.Penalty != PenaltyL1:
				return fmt.Errorf("sparse penalty must be %q or %q, got %q", PenaltyKL, PenaltyL1, c.Penalty)
			case c.Penalty == PenaltyKL && !(c.Rho > 0 && c.Rho < 1):
				return fmt.Errorf("sparse rho must be in (0,1), got %g", c.Rho)
			}
			return checkWeight("lambda", c.Lambda)
		},
		measure: func(ae *Autoencoder, images []float32, n int) ([]float64, error) {
			stats, err := ae.CodeStats(images, n)
			return []float64{stats.MeanActivation, stats.NearZeroShare, float64(stats.DeadUnits)}, err
		},
	},
	{
		Name: ModelContractive, Title: "Contractive autoencoder (Jacobian penalty)",
		Defaults: Config{Widths: []int{256, 128, 32}, Epochs: 20, BatchSize: 256, Lambda: DefaultContractiveLambda},
		Settings: []string{"widths", "lambda"},
		// A step costs several vanilla steps, the exact Jacobian penalty (docs/performance.md, "Penalty weights").
		Quick: QuickSettings{Epochs: 2, TrainSubset: 10000, TestSubset: 1000},
		Measures: []Measure{
			{Name: "jacobian_norm_sq", Title: "‖J‖²_F of the encoder", Better: LowerIsBetter},
			{Name: "code_sensitivity", Title: "code change per unit of input noise", Better: LowerIsBetter},
		},
		architecture: func(c Config) (Architecture, error) {
			if err := checkWidths(c); err != nil {
				return Architecture{}, err
			}
			return Contractive(data.Pixels, c.Lambda, c.Widths...), nil
		},
		validate: func(c Config) error { return checkWeight("lambda", c.Lambda) },
		measure: func(ae *Autoencoder, images []float32, n int) ([]float64, error) {
			j, err := ae.JacobianNormSq(images, n)
			if err != nil {
				return nil, err
			}
			sens, err := ae.CodeSensitivity(images, n, 0.05, ae.Config.Seed)
			return []float64{j, sens}, err
		},
	},
	{
		Name: ModelVAE, Title: "Variational autoencoder (Gaussian code)",
		Defaults: Config{Widths: []int{256, 128}, Epochs: 20, BatchSize: 256, LatentDim: 16, Beta: 1},
		Settings: []string{"widths", "latent_dim", "beta"},
		// Its samples need a few more epochs to look like digits.
		Quick:    QuickSettings{Epochs: 5, TrainSubset: 20000, TestSubset: 2000},
		Measures: []Measure{{Name: "latent_kl", Title: "KL(q(z|x) ‖ N(0,I))", Unit: "nats"}},
		architecture: func(c Config) (Architecture, error) {
			if c.LatentDim <= 0 {
				return Architecture{}, fmt.Errorf("vae latent_dim must be > 0, got %d", c.LatentDim)
			}
			if err := checkWidths(c); err != nil {
				return Architecture{}, err
			}
			return Variational(data.Pixels, c.LatentDim, c.Beta, c.Widths...), nil
		},
		validate: func(c Config) error { return checkWeight("vae beta", c.Beta) },
		measure: func(ae *Autoencoder, images []float32, n int) ([]float64, error) {
			kl, err := ae.LatentKL(images, n)
			return []float64{kl}, err
		},
	},
}

// denseArchitecture is the dense autoencoder of the config's widths (vanilla, deep).
func denseArchitecture(c Config) (Architecture, error) {
	if err := checkWidths(c); err != nil {
		return Architecture{}, err
	}
	return Dense(c.Model, data.Pixels, c.Widths...), nil
}

func checkWidths(c Config) error {
	if len(c.Widths) == 0 {
		return fmt.Errorf("model %s needs widths", c.Model)
	}
	for _, w := range c.Widths {
		if w <= 0 {
			return fmt.Errorf("model %s: widths must be > 0, got %v", c.Model, c.Widths)
		}
	}
	return nil
}

// checkWeight checks a penalty weight: a finite number >= 0.
func checkWeight(name string, v float64) error {
	if !(v >= 0) || isInf(v) {
		return fmt.Errorf("%s must be a finite number >= 0, got %g", name, v)
	}
	return nil
}

// Variants returns the registry: every model aelab trains, the course's first.
func Variants() []Variant {
	out := make([]Variant, len(variants))
	for i, v := range variants {
		out[i] = v.clone()
	}
	return out
}

// LookupVariant returns the registry's entry of a model.
func LookupVariant(model string) (Variant, error) {
	for _, v := range variants {
		if v.Name == model {
			return v.clone(), nil
		}
	}
	return Variant{}, fmt.Errorf("unknown model %q (known: %s)", model, strings.Join(Models(), ", "))
}

// clone copies the slices a caller could change.
func (v Variant) clone() Variant {
	v.Defaults.Widths = slices.Clone(v.Defaults.Widths)
	v.Settings = slices.Clone(v.Settings)
	v.Measures = slices.Clone(v.Measures)
	return v
}

// Reads reports whether the model reads a Config setting (by JSON name): a common one or one of its own.
func (v Variant) Reads(setting string) bool {
	return slices.Contains(CommonSettings, setting) || slices.Contains(v.Settings, setting)
}

// Loss names what the model minimises for cfg: "bce", or the BCE plus its penalty ("bce+kl").
func (v Variant) Loss(cfg Config) string {
	a, err := v.architecture(cfg)
	if err != nil {
		return "bce"
	}
	return a.LossName()
}

// variant is the registry entry of the config's model; Validate has checked it exists.
func (c Config) variant() Variant {
	i := slices.IndexFunc(variants, func(v Variant) bool { return v.Name == c.Model })
	if i < 0 {
		panic(fmt.Sprintf("aelib: unknown model %q (Validate first)", c.Model))
	}
	return variants[i]
}

// Measure computes the measures of the model's variant (Variant.Measures) on n flat images, by
// name; nil for a model without measures and for a program's own (NewCustom).
func (ae *Autoencoder) Measure(images []float32, n int) (map[string]float64, error) {
	if ae.custom {
		return nil, nil
	}
	v := ae.Config.variant()
	if v.measure == nil {
		return nil, nil
	}
	values, err := v.measure(ae, images, n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(v.Measures))
	for i, m := range v.Measures {
		out[m.Name] = values[i]
	}
	return out, nil
}
