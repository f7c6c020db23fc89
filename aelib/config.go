package aelib

import (
	"fmt"
	"slices"
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
// stores for a run and what a checkpoint keeps beside the weights.
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

// Models lists the model names DefaultConfig knows.
func Models() []string {
	return []string{ModelVanilla, ModelDeep, ModelDenoise, ModelSparse, ModelContractive, ModelVAE}
}

// DefaultConfig returns the course's settings for a model: vanilla 10 epochs, deep 50, denoise
// 10 with noise 0.5; batch 256 for the dense models and 128 for the convolutional one; Adam 1e-3.
// The models beyond the course train 20 epochs, batch 256, Adam 1e-3: sparse is 784-256-128-32
// with a sigmoid code, KL penalty, ρ 0.05, λ DefaultSparseLambda; contractive is 784-256-128-32
// with λ DefaultContractiveLambda; vae is 784-256-128-(Gaussian 16)-128-256-784 with β 1.
func DefaultConfig(modelName string) (Config, error) {
	c := Config{Model: modelName, Dataset: "mnist", LearningRate: 1e-3, Seed: 42}
	switch modelName {
	case ModelVanilla:
		c.Widths, c.Epochs, c.BatchSize = []int{256, 128, 32}, 10, 256
	case ModelDeep:
		c.Widths, c.Epochs, c.BatchSize = []int{128, 64, 32}, 50, 256
	case ModelDenoise:
		c.Filters, c.Epochs, c.BatchSize, c.Noise = 32, 10, 128, 0.5
	case ModelSparse:
		c.Widths, c.Epochs, c.BatchSize = []int{256, 128, 32}, 20, 256
		c.Penalty, c.Rho, c.Lambda = PenaltyKL, 0.05, DefaultSparseLambda
	case ModelContractive:
		c.Widths, c.Epochs, c.BatchSize = []int{256, 128, 32}, 20, 256
		c.Lambda = DefaultContractiveLambda
	case ModelVAE:
		c.Widths, c.Epochs, c.BatchSize = []int{256, 128}, 20, 256
		c.LatentDim, c.Beta = 16, 1
	default:
		return Config{}, fmt.Errorf("unknown model %q (known: %v)", modelName, Models())
	}
	return c, nil
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case !slices.Contains(Models(), c.Model):
		return fmt.Errorf("unknown model %q (known: %v)", c.Model, Models())
	case c.Epochs < 0:
		return fmt.Errorf("epochs must be >= 0, got %d", c.Epochs)
	case c.BatchSize <= 0:
		return fmt.Errorf("batch size must be > 0, got %d", c.BatchSize)
	case c.LearningRate <= 0:
		return fmt.Errorf("learning rate must be > 0, got %g", c.LearningRate)
	case c.Noise < 0:
		return fmt.Errorf("noise must be >= 0, got %g", c.Noise)
	case c.TrainSubset < 0 || c.TestSubset < 0:
		return fmt.Errorf("subsets must be >= 0")
	}
	if err := c.validateVariant(); err != nil {
		return err
	}
	_, err := c.Architecture()
	return err
}

// Architecture returns the layers the config describes.
func (c Config) Architecture() (Architecture, error) {
	var a Architecture
	switch c.Model {
	case ModelVanilla, ModelDeep, ModelContractive:
		if len(c.Widths) == 0 {
			return a, fmt.Errorf("model %s needs widths", c.Model)
		}
		a = Dense(c.Model, 784, c.Widths...)
	case ModelSparse:
		if len(c.Widths) == 0 {
			return a, fmt.Errorf("model %s needs widths", c.Model)
		}
		a = SparseDense(784, c.Widths...)
	case ModelVAE:
		if c.LatentDim <= 0 {
			return a, fmt.Errorf("model %s needs latent_dim > 0", c.Model)
		}
		a = Variational(784, c.LatentDim, c.Widths...)
	case ModelDenoise:
		if c.Filters <= 0 {
			return a, fmt.Errorf("model %s needs filters > 0", c.Model)
		}
		a = ConvDenoising(c.Filters)
	default:
		return a, fmt.Errorf("unknown model %q (known: %v)", c.Model, Models())
	}
	if _, err := a.Shapes(); err != nil {
		return a, err
	}
	return a, nil
}

// validateVariant checks the settings of the models beyond the course.
func (c Config) validateVariant() error {
	switch c.Model {
	case ModelSparse:
		switch {
		case c.Penalty != PenaltyKL && c.Penalty != PenaltyL1:
			return fmt.Errorf("sparse penalty must be %q or %q, got %q", PenaltyKL, PenaltyL1, c.Penalty)
		case c.Penalty == PenaltyKL && (c.Rho <= 0 || c.Rho >= 1):
			return fmt.Errorf("sparse rho must be in (0,1), got %g", c.Rho)
		case c.Lambda < 0:
			return fmt.Errorf("lambda must be >= 0, got %g", c.Lambda)
		}
	case ModelContractive:
		if c.Lambda < 0 {
			return fmt.Errorf("lambda must be >= 0, got %g", c.Lambda)
		}
	case ModelVAE:
		switch {
		case c.LatentDim <= 0:
			return fmt.Errorf("vae latent_dim must be > 0, got %d", c.LatentDim)
		case c.Beta < 0:
			return fmt.Errorf("vae beta must be >= 0, got %g", c.Beta)
		}
	}
	return nil
}
