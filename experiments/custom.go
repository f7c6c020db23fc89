package experiments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/tracker"
)

// A program's own autoencoder (Spec.Arch, aelib.NewCustom) trains through Run like a registry
// model. Its run stores the config JSON with the architecture added under the key
// "architecture" (storedConfig), so the record alone rebuilds its layers: ConfigOf still
// decodes the config, ArchitectureOf the layers of either kind of run.

// storedConfig is the config JSON a run keeps: the config's fields, plus a program's own
// architecture (absent for a registry model, whose config names its architecture).
type storedConfig struct {
	aelib.Config
	Architecture *aelib.Architecture `json:"architecture,omitempty"`
}

// maxCustomWidth bounds every width of a custom architecture (units, a dimension of the input
// or of a reshape) and maxCustomValues the values of one example at any layer, so that shaping
// and counting an architecture read from a store cannot overflow.
const (
	maxCustomWidth  = 1 << 24
	maxCustomValues = 1 << 40
)

// checkCustom refuses, before any data is loaded, an architecture that aelib.NewCustom would
// refuse for its name or its layers, or that is too large to train (sizes past maxCustomWidth
// or maxCustomValues, more than aelib.MaxParams parameters); NewCustom checks the rest
// (settings, penalties). A stored architecture is untrusted input: it passes here first.
func checkCustom(arch aelib.Architecture) error {
	if arch.Name == "" || slices.Contains(aelib.Models(), arch.Name) {
		return fmt.Errorf("a custom architecture needs a name of its own, not %q (the registry's models: %s)",
			arch.Name, strings.Join(aelib.Models(), ", "))
	}
	tooLarge := fmt.Errorf("architecture %s is too large to train: a width past %s or a layer of more than %s values",
		arch.Name, aelib.Thousands(maxCustomWidth), aelib.Thousands(maxCustomValues))
	sizeOK := func(dims []int) bool {
		p := 1
		for _, d := range dims {
			if d < 0 || d > maxCustomWidth {
				return false
			}
			if p *= d; p > maxCustomValues {
				return false
			}
		}
		return true
	}
	if !sizeOK(arch.Input) {
		return tooLarge
	}
	for _, l := range arch.Layers {
		if l.Units < 0 || l.Units > maxCustomWidth || !sizeOK(l.Shape) {
			return tooLarge
		}
	}
	rows, err := arch.Shapes()
	if err != nil {
		return fmt.Errorf("architecture %s: %w", arch.Name, err)
	}
	total := 0
	for _, r := range rows {
		if !sizeOK(r.Output) {
			return tooLarge
		}
		total += r.Params
	}
	if total > aelib.MaxParams {
		return fmt.Errorf("architecture %s is too large to train: %s parameters, more than aelab's limit of %s",
			arch.Name, aelib.Thousands(total), aelib.Thousands(aelib.MaxParams))
	}
	return nil
}

// ArchitectureOf returns the architecture of a run: the one a program's own model stored with
// its config, or the registry's for the stored config's model. A stored architecture's
// penalties keep only their names (a penalty's term is code): enough for its summary, its loss
// name and inference, not to train it again.
func ArchitectureOf(r *tracker.RunRecord) (aelib.Architecture, error) {
	arch, custom, err := storedArchitecture(r)
	if err != nil || custom {
		return arch, err
	}
	cfg, err := ConfigOf(r)
	if err != nil {
		return aelib.Architecture{}, err
	}
	arch, err = cfg.Architecture()
	if err != nil {
		return arch, fmt.Errorf("run %s: %w", r.ShortID(), err)
	}
	return arch, nil
}

// storedArchitecture decodes the architecture a custom run stored; custom is false for a run
// whose config has none.
func storedArchitecture(r *tracker.RunRecord) (arch aelib.Architecture, custom bool, err error) {
	if len(r.Config) == 0 {
		return arch, false, fmt.Errorf("run %s has no stored config", r.ShortID())
	}
	var stored struct {
		Architecture *aelib.Architecture `json:"architecture"`
	}
	if err := json.Unmarshal(r.Config, &stored); err != nil {
		return arch, false, fmt.Errorf("run %s: stored config: %w", r.ShortID(), err)
	}
	if stored.Architecture == nil {
		return arch, false, nil
	}
	if err := checkCustom(*stored.Architecture); err != nil {
		return arch, true, fmt.Errorf("run %s: stored %w", r.ShortID(), err)
	}
	return *stored.Architecture, true, nil
}

// errPenaltyCode is the reason a custom run whose architecture has penalties cannot be trained
// again from the store.
var errPenaltyCode = errors.New("its penalties are code the store does not keep")

// reproduceArch is the architecture Reproduce trains a stored run with: nil for a registry model.
func reproduceArch(r *tracker.RunRecord) (*aelib.Architecture, error) {
	arch, custom, err := storedArchitecture(r)
	if err != nil || !custom {
		return nil, err
	}
	if len(arch.Penalties) > 0 {
		names := make([]string, len(arch.Penalties))
		for i, p := range arch.Penalties {
			names[i] = p.Name
		}
		return nil, fmt.Errorf("run %s trained the program-defined model %s: %w (%s); train it again from that program",
			r.ShortID(), arch.Name, errPenaltyCode, strings.Join(names, ", "))
	}
	return &arch, nil
}

// customParams are the params of a program's own model: the settings every model reads
// (aelib.CommonSettings), the optimizer, its loss and its compression path.
func customParams(cfg aelib.Config, arch aelib.Architecture) map[string]string {
	p := flatParams(cfg, func(name string) bool { return slices.Contains(aelib.CommonSettings, name) })
	p["model"] = arch.Name
	p["optimizer"] = "adam"
	p["loss"] = arch.LossName()
	p["architecture"] = arch.Path()
	return p
}

// flatParams is the config's JSON fields that reads accepts, as strings; a list becomes its
// values joined by commas.
func flatParams(cfg aelib.Config, reads func(name string) bool) map[string]string {
	raw, _ := json.Marshal(cfg) // Validate has checked that every number is finite
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // a seed beyond 2^53 stays exact
	_ = dec.Decode(&fields)
	p := map[string]string{}
	for name, value := range fields {
		if !reads(name) {
			continue
		}
		switch value := value.(type) {
		case string:
			p[name] = value
		case json.Number:
			p[name] = value.String()
		case []any:
			parts := make([]string, len(value))
			for i, e := range value {
				parts[i] = fmt.Sprint(e)
			}
			p[name] = strings.Join(parts, ",")
		}
	}
	return p
}

// CustomQuick are the quick settings of a program's own model (CustomConfig): a demo on a
// 2-core CPU in well under a minute for a dense model of the course's size, with steps enough
// (160) for a dense model's reconstructions to look like digits.
var CustomQuick = aelib.QuickSettings{Epochs: 2, TrainSubset: 20000, TestSubset: 2000}

// CustomConfig is the config a program's own architecture trains with: the deep model's
// defaults for the settings every model reads (aelib.CommonSettings), shortened to CustomQuick
// when quick (or --quick) is set, changed by the setting flags given. A flag for a setting that
// only registry models read (--widths, --filters, …) or a --model flag is an error.
func (f *ConfigFlags) CustomConfig(arch aelib.Architecture, quick bool) (aelib.Config, error) {
	if err := checkCustom(arch); err != nil {
		return aelib.Config{}, err
	}
	if f.modelSet {
		return aelib.Config{}, fmt.Errorf("--model %s: this trains the architecture %s", f.model, arch.Name)
	}
	cfg, err := aelib.DefaultConfig(aelib.ModelDeep)
	if err != nil {
		return cfg, err
	}
	cfg.Widths = nil
	if quick || f.quick {
		cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = CustomQuick.Epochs, CustomQuick.TrainSubset, CustomQuick.TestSubset
	}
	for _, d := range configFlags {
		apply, ok := f.set[d.name]
		if !ok {
			continue
		}
		if !slices.Contains(aelib.CommonSettings, d.setting) {
			return cfg, fmt.Errorf("--%s does not apply to the architecture %s (only to %s)", d.name, arch.Name, strings.Join(readers(d.setting), ", "))
		}
		apply(&cfg)
	}
	cfg.Model = arch.Name
	return cfg, nil
}

// Examples and batch aelib's memory estimate counts: the whole data set is loaded whatever the
// subsets, and inference runs in batches of 256.
const (
	allExamples    = 60000 + 10000
	inferenceBatch = 256
)

// CustomMemoryEstimate estimates the memory training a program's own architecture with cfg
// takes, as aelib.Config.MemoryEstimate does for the registry's models: parameters with their
// gradients and Adam's moments, a batch's activations forward and backward (or an inference
// batch's, whichever is larger), and the data.
func CustomMemoryEstimate(arch aelib.Architecture, cfg aelib.Config) (aelib.MemoryEstimate, error) {
	if err := checkCustom(arch); err != nil {
		return aelib.MemoryEstimate{}, err
	}
	rows, err := arch.Shapes()
	if err != nil {
		return aelib.MemoryEstimate{}, err
	}
	trained := 60000
	if cfg.TrainSubset > 0 && cfg.TrainSubset < trained {
		trained = cfg.TrainSubset
	}
	e := aelib.MemoryEstimate{Model: arch.Name, Batch: max(min(cfg.BatchSize, trained), 1)}
	perExample := int64(data.Pixels)
	for _, r := range rows {
		e.Params += int64(r.Params)
		values := int64(1)
		for _, d := range r.Output {
			values *= int64(d) // checkCustom bounds it by maxCustomValues
		}
		if r.Kind == aelib.KindGaussian {
			values *= 3 // mean, log-variance and the sample
		}
		perExample += values
	}
	e.Activations = max(2*int64(e.Batch), inferenceBatch) * perExample
	e.ActBytes = e.Activations * 4
	e.ParamBytes = e.Params * 4 * 4
	e.DataBytes = allExamples * data.Pixels * 4
	if cfg.Noise > 0 {
		e.DataBytes *= 2
	}
	e.Total = e.ParamBytes + e.ActBytes + e.DataBytes
	return e, nil
}

// checkCustomMemory refuses, with an *aelib.MemoryError, a program's own architecture whose
// training takes more memory than aelib.AvailableMemory leaves.
func checkCustomMemory(arch aelib.Architecture, cfg aelib.Config) error {
	e, err := CustomMemoryEstimate(arch, cfg)
	if err != nil {
		return err
	}
	avail, ok, err := aelib.AvailableMemory()
	if err != nil || !ok {
		return err
	}
	if e.Total > avail.Bytes {
		return &aelib.MemoryError{Estimate: e, Available: avail}
	}
	return nil
}
