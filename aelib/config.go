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
}

// Models lists the model names DefaultConfig knows.
func Models() []string { return []string{ModelVanilla, ModelDeep, ModelDenoise} }

// DefaultConfig returns the course's settings for a model: vanilla 10 epochs, deep 50, denoise
// 10 with noise 0.5; batch 256 for the dense models and 128 for the convolutional one; Adam 1e-3.
func DefaultConfig(modelName string) (Config, error) {
	c := Config{Model: modelName, Dataset: "mnist", LearningRate: 1e-3, Seed: 42}
	switch modelName {
	case ModelVanilla:
		c.Widths, c.Epochs, c.BatchSize = []int{256, 128, 32}, 10, 256
	case ModelDeep:
		c.Widths, c.Epochs, c.BatchSize = []int{128, 64, 32}, 50, 256
	case ModelDenoise:
		c.Filters, c.Epochs, c.BatchSize, c.Noise = 32, 10, 128, 0.5
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
	_, err := c.Architecture()
	return err
}

// Architecture returns the layers the config describes.
func (c Config) Architecture() (Architecture, error) {
	var a Architecture
	switch c.Model {
	case ModelVanilla, ModelDeep:
		if len(c.Widths) == 0 {
			return a, fmt.Errorf("model %s needs widths", c.Model)
		}
		a = Dense(c.Model, 784, c.Widths...)
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
