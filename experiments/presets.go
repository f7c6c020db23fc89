package experiments

import (
	"github.com/aelab/aelab/aelib"
)

// Preset is one of the course's experiments: a model of the variant registry with its section,
// title and default settings.
type Preset struct {
	Name    string       // the model name: vanilla, deep, denoise, …
	Section string       // course section: "1.2", or BeyondSection
	Title   string       //
	Config  aelib.Config // the model's default settings
}

// BeyondSection is the section tag of the models the course names (§1.1.5) but never builds.
const BeyondSection = "beyond"

// Presets returns the course's experiments in course order: the variants a course section builds.
func Presets() []Preset { return presets(func(v aelib.Variant) bool { return v.Section != "" }) }

// BeyondPresets returns the other variants (sparse, contractive, variational) with aelib's
// defaults: the course lists them in §1.1.5 without building them.
func BeyondPresets() []Preset { return presets(func(v aelib.Variant) bool { return v.Section == "" }) }

func presets(keep func(aelib.Variant) bool) []Preset {
	var out []Preset
	for _, v := range aelib.Variants() {
		if keep(v) {
			out = append(out, preset(v))
		}
	}
	return out
}

func preset(v aelib.Variant) Preset {
	cfg, _ := aelib.DefaultConfig(v.Name) // v is in the registry
	section := v.Section
	if section == "" {
		section = BeyondSection
	}
	return Preset{Name: v.Name, Section: section, Title: v.Title, Config: cfg}
}

// LookupPreset returns the preset of a model name, from the course or beyond it.
func LookupPreset(name string) (Preset, error) {
	v, err := aelib.LookupVariant(name)
	if err != nil {
		return Preset{}, err
	}
	return preset(v), nil
}
