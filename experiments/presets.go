package experiments

import (
	"fmt"
	"slices"

	"github.com/aelab/aelab/aelib"
)

// Preset is one of the course's experiments: a section, a title and its settings.
type Preset struct {
	Name    string       // the model name: vanilla, deep, denoise
	Section string       // course section: "1.2"
	Title   string       //
	Config  aelib.Config // the course's settings
}

// BeyondSection is the section tag of the models the course names (§1.1.5) but never builds.
const BeyondSection = "beyond"

// Presets returns the course's experiments in course order.
func Presets() []Preset {
	return presets(
		presetRow{aelib.ModelVanilla, "1.2", "Vanilla encoder and decoder (784-256-128-32)"},
		presetRow{aelib.ModelDeep, "1.3", "Deep encoder and decoder (784-128-64-32)"},
		presetRow{aelib.ModelDenoise, "1.4", "Convolutional denoising autoencoder"},
	)
}

// BeyondPresets returns the sparse, contractive and variational autoencoders with aelib's
// defaults: the course lists them in §1.1.5 without building them.
func BeyondPresets() []Preset {
	return presets(
		presetRow{aelib.ModelSparse, BeyondSection, "Sparse autoencoder (KL penalty on the code)"},
		presetRow{aelib.ModelContractive, BeyondSection, "Contractive autoencoder (Jacobian penalty)"},
		presetRow{aelib.ModelVAE, BeyondSection, "Variational autoencoder (Gaussian code)"},
	)
}

type presetRow struct{ name, section, title string }

func presets(rows ...presetRow) []Preset {
	out := make([]Preset, 0, len(rows))
	for _, p := range rows {
		cfg, err := aelib.DefaultConfig(p.name)
		if err != nil {
			panic(err) // the table above names only models aelib knows
		}
		out = append(out, Preset{Name: p.name, Section: p.section, Title: p.title, Config: cfg})
	}
	return out
}

// LookupPreset returns the preset of a model name, from the course or beyond it.
func LookupPreset(name string) (Preset, error) {
	presets := append(Presets(), BeyondPresets()...)
	i := slices.IndexFunc(presets, func(p Preset) bool { return p.Name == name })
	if i < 0 {
		names := make([]string, len(presets))
		for j, p := range presets {
			names[j] = p.Name
		}
		return Preset{}, fmt.Errorf("unknown model %q (known: %v)", name, names)
	}
	return presets[i], nil
}

// Quick shortens a config into a demo that runs in well under a minute on a 2-core CPU with
// ONNX Runtime, keeping the architecture and optimizer: few epochs, and for the convolutional
// model a subset of the data.
func Quick(cfg aelib.Config) aelib.Config {
	switch cfg.Model {
	case aelib.ModelDenoise:
		cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 6000, 2000
	case aelib.ModelDeep:
		cfg.Epochs = 5
	case aelib.ModelContractive:
		cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 20000, 2000 // its penalty costs several forward passes
	default:
		cfg.Epochs = 3
	}
	return cfg
}
