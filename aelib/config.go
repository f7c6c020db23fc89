package aelib

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/aelab/aelab/aelib/data"
)

// Model names.
const (
	ModelVanilla = "vanilla"
	ModelDeep    = "deep"
	ModelDenoise = "denoise"

	// Beyond the course (§1.1.5 names them): see sparse.go, contractive.go and vae.go.
	ModelSparse      = "sparse"
	ModelContractive = "contractive"
	ModelVAE         = "vae"
)

// Sparsity penalties of the sparse model (Config.Penalty).
const (
	PenaltyKL = "kl" // λ Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the mean activation of code unit j over the batch
	PenaltyL1 = "l1" // λ Σ_j |h_j|, averaged over the examples
)

// Config says what to train and how. It round-trips through JSON, and is what the tracker
// stores for a run and what a checkpoint keeps beside the weights. The JSON names are the
// setting names of the variant registry (Variant.Settings, CommonSettings).
type Config struct {
	Model        string  `json:"model"`             // vanilla, deep, denoise, …
	Widths       []int   `json:"widths,omitempty"`  // dense models: encoder widths, last is the bottleneck
	Filters      int     `json:"filters,omitempty"` // convolutional model: filters per conv layer
	Dataset      string  `json:"dataset"`           // mnist or fashion
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"` // Adam, β1 0.9, β2 0.999, ε 1e-7 (Keras' defaults)
	Noise        float64 `json:"noise"`         // Gaussian noise factor on the inputs; 0 for plain reconstruction
	TrainSubset  int     `json:"train_subset,omitempty"`
	TestSubset   int     `json:"test_subset,omitempty"`
	Seed         uint64  `json:"seed"`
	Backend      string  `json:"backend,omitempty"` // GoMLX backend config; empty picks one (see ChooseBackend)

	// Beyond the course: the regularised and variational models.
	Penalty   string  `json:"penalty,omitempty"`    // sparse: PenaltyKL or PenaltyL1
	Rho       float64 `json:"rho,omitempty"`        // sparse, kl: target mean activation ρ in (0,1)
	Lambda    float64 `json:"lambda,omitempty"`     // sparse and contractive: weight of the penalty
	Beta      float64 `json:"beta,omitempty"`       // vae: weight of the KL term (β-VAE; 1 is the plain ELBO)
	LatentDim int     `json:"latent_dim,omitempty"` // vae: size of the Gaussian code (2 for a plottable latent space)
}

// Models lists the model names of the variant registry, the course's first.
func Models() []string {
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.Name
	}
	return names
}

// DefaultConfig returns a model's settings from the variant registry (Variant.Defaults) on
// MNIST with Adam 1e-3 and seed 42: vanilla 10 epochs, deep 50, denoise 10 with noise 0.5; batch
// 256 for the dense models and 128 for the convolutional one. The models beyond the course train
// 20 epochs, batch 256: sparse is 784-256-128-32 with a sigmoid code, KL penalty, ρ 0.05, λ
// DefaultSparseLambda; contractive is 784-256-128-32 with λ DefaultContractiveLambda; vae is
// 784-256-128-(Gaussian 16)-128-256-784 with β 1.
func DefaultConfig(modelName string) (Config, error) {
	v, err := LookupVariant(modelName)
	if err != nil {
		return Config{}, err
	}
	c := v.Defaults
	c.Model, c.Dataset, c.LearningRate, c.Seed = v.Name, data.MNIST, 1e-3, 42
	return c, nil
}

// Quick returns the config shortened to its model's quick settings (Variant.Quick): a demo that
// runs in well under a minute on a 2-core CPU with ONNX Runtime, same architecture and optimizer.
func (c Config) Quick() Config {
	v, err := LookupVariant(c.Model)
	if err != nil {
		return c // Validate reports the unknown model
	}
	c.Epochs, c.TrainSubset, c.TestSubset = v.Quick.Epochs, v.Quick.TrainSubset, v.Quick.TestSubset
	return c
}

// Validate reports the first setting that cannot work. Every number must be finite.
func (c Config) Validate() error {
	v, err := LookupVariant(c.Model)
	if err != nil {
		return err
	}
	if err := c.validateCommon(); err != nil {
		return err
	}
	if v.validate != nil {
		if err := v.validate(c); err != nil {
			return err
		}
	}
	_, err = c.Architecture()
	return err
}

// validateCommon checks the settings every model reads (CommonSettings) and the numbers of the
// others.
func (c Config) validateCommon() error {
	switch {
	case !slices.Contains(data.Names(), c.Dataset):
		return fmt.Errorf("unknown dataset %q (known: %s)", c.Dataset, strings.Join(data.Names(), ", "))
	case c.Epochs < 0:
		return fmt.Errorf("epochs must be >= 0, got %d", c.Epochs)
	case c.BatchSize <= 0:
		return fmt.Errorf("batch size must be > 0, got %d", c.BatchSize)
	case !(c.LearningRate > 0) || isInf(c.LearningRate):
		return fmt.Errorf("learning rate must be a finite number > 0, got %g", c.LearningRate)
	case !(c.Noise >= 0) || isInf(c.Noise):
		return fmt.Errorf("noise must be a finite number >= 0, got %g", c.Noise)
	case c.TrainSubset < 0 || c.TestSubset < 0:
		return fmt.Errorf("subsets must be >= 0")
	}
	for _, f := range []float64{c.Rho, c.Lambda, c.Beta} {
		if math.IsNaN(f) || isInf(f) {
			return fmt.Errorf("rho, lambda and beta must be finite, got %g, %g, %g", c.Rho, c.Lambda, c.Beta)
		}
	}
	return nil
}

func isInf(v float64) bool { return math.IsInf(v, 0) }

// Architecture returns the layers the config describes.
func (c Config) Architecture() (Architecture, error) {
	v, err := LookupVariant(c.Model)
	if err != nil {
		return Architecture{}, err
	}
	a, err := v.architecture(c)
	if err != nil {
		return a, err
	}
	if _, err := a.Shapes(); err != nil {
		return a, err
	}
	return a, nil
}

// ForData returns the config as it trains on a data set of nTrain training and nTest test
// examples: a subset as large as its split or larger becomes 0 (the whole split), and the batch
// is at most the examples trained on, so memory is bounded by the data, not by the setting.
// notes say, for people, what changed.
func (c Config) ForData(nTrain, nTest int) (eff Config, notes []string) {
	if c.TrainSubset >= nTrain && c.TrainSubset > 0 {
		notes = append(notes, fmt.Sprintf("train subset %d covers all %d training examples", c.TrainSubset, nTrain))
		c.TrainSubset = 0
	}
	if c.TestSubset >= nTest && c.TestSubset > 0 {
		notes = append(notes, fmt.Sprintf("test subset %d covers all %d test examples", c.TestSubset, nTest))
		c.TestSubset = 0
	}
	trained := nTrain
	if c.TrainSubset > 0 {
		trained = c.TrainSubset
	}
	if c.BatchSize > trained && trained > 0 {
		notes = append(notes, fmt.Sprintf("batch %d is more than the %d training examples: batch %d", c.BatchSize, trained, trained))
		c.BatchSize = trained
	}
	return c, notes
}
