package experiments

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
)

// ConfigFlags are the command-line flags that build an aelib.Config, defined once for `aelab
// train`, `aelab bench`, sweep specs (Set, ConfigFlagNames) and notebook cells (CellFlags):
// --model picks the model whose defaults (aelib.DefaultConfig) the other flags change, --quick
// shortens them (aelib.Config.Quick), and each setting flag replaces one setting. A setting that
// is not given keeps the model's value: no value of a flag stands for "unset". Every value is
// checked when it is parsed (numbers finite and in range, names known), a flag the model does
// not read is refused, and the result passes aelib.Config.Validate.
type ConfigFlags struct {
	model    string
	modelSet bool
	quick    bool
	set      map[string]func(*aelib.Config) // by flag name: what a given value does to the config
}

// configFlag is one setting flag: its name, the config field it sets (by JSON name, as in
// aelib.Variant.Settings) and how a value is checked and applied.
type configFlag struct {
	name, setting, usage string
	parse                func(s string) (func(*aelib.Config), error)
}

// configFlags are the setting flags, in the order they are applied.
var configFlags = []configFlag{
	{"dataset", "dataset", "data set: " + strings.Join(data.Names(), " or ") + " (default mnist)", func(s string) (func(*aelib.Config), error) {
		if !slices.Contains(data.Names(), s) {
			return nil, fmt.Errorf("unknown data set (known: %s)", strings.Join(data.Names(), ", "))
		}
		return func(c *aelib.Config) { c.Dataset = s }, nil
	}},
	{"epochs", "epochs", "epochs (default: the model's: vanilla 10, deep 50, denoise 10, the others 20)", intFlag(0, func(c *aelib.Config, v int) { c.Epochs = v })},
	{"batch", "batch_size", "batch size (default: the model's, 256 dense, 128 conv; at most the training examples)", intFlag(1, func(c *aelib.Config, v int) { c.BatchSize = v })},
	{"subset", "train_subset", "train on the first N training images (default: all)", intFlag(1, func(c *aelib.Config, v int) { c.TrainSubset = v })},
	{"test-subset", "test_subset", "validate on the first N test images (default: all)", intFlag(1, func(c *aelib.Config, v int) { c.TestSubset = v })},
	{"lr", "learning_rate", "Adam learning rate (default 1e-3)", floatFlag(">", 0, math.Inf(1), func(c *aelib.Config, v float64) { c.LearningRate = v })},
	{"noise", "noise", "Gaussian noise factor on the inputs (default: denoise 0.5, the others 0)", floatFlag(">=", 0, math.Inf(1), func(c *aelib.Config, v float64) { c.Noise = v })},
	{"seed", "seed", "random seed: weights, shuffling, noise (default 42)", func(s string) (func(*aelib.Config), error) {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return nil, errors.New("must be an integer >= 0")
		}
		return func(c *aelib.Config) { c.Seed = v }, nil
	}},
	{"backend", "backend", "GoMLX backend config, e.g. go, onnx:cpu, xla:/path/xla_cuda_plugin.so (default: picked for this machine)", func(s string) (func(*aelib.Config), error) {
		if err := aelib.CheckBackend(s); err != nil {
			return nil, err
		}
		return func(c *aelib.Config) { c.Backend = s }, nil
	}},
	{"widths", "widths", "dense models and vae: encoder widths, comma-separated, the last the code (vae: the hidden ones)", func(s string) (func(*aelib.Config), error) {
		var widths []int
		for _, part := range strings.Split(s, ",") {
			w, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || w <= 0 {
				return nil, errors.New("must be integers > 0 separated by commas, e.g. 256,128,32")
			}
			widths = append(widths, w)
		}
		return func(c *aelib.Config) { c.Widths = widths }, nil
	}},
	{"filters", "filters", "denoise: filters per convolution (default 32)", intFlag(1, func(c *aelib.Config, v int) { c.Filters = v })},
	{"penalty", "penalty", "sparse: " + aelib.PenaltyKL + " or " + aelib.PenaltyL1 + " (default kl)", func(s string) (func(*aelib.Config), error) {
		if s != aelib.PenaltyKL && s != aelib.PenaltyL1 {
			return nil, fmt.Errorf("must be %s or %s", aelib.PenaltyKL, aelib.PenaltyL1)
		}
		return func(c *aelib.Config) { c.Penalty = s }, nil
	}},
	{"rho", "rho", "sparse, kl: target mean activation of the code, in (0,1) (default 0.05)", floatFlag(">", 0, 1, func(c *aelib.Config, v float64) { c.Rho = v })},
	{"lambda", "lambda", "sparse and contractive: weight of the penalty", floatFlag(">=", 0, math.Inf(1), func(c *aelib.Config, v float64) { c.Lambda = v })},
	{"beta", "beta", "vae: weight of the KL term (default 1)", floatFlag(">=", 0, math.Inf(1), func(c *aelib.Config, v float64) { c.Beta = v })},
	{"latent", "latent_dim", "vae: code size (default 16; 2 draws a latent map)", intFlag(1, func(c *aelib.Config, v int) { c.LatentDim = v })},
}

// intFlag parses an integer >= least.
func intFlag(least int, apply func(*aelib.Config, int)) func(string) (func(*aelib.Config), error) {
	return func(s string) (func(*aelib.Config), error) {
		v, err := strconv.Atoi(s)
		if err != nil || v < least {
			return nil, fmt.Errorf("must be an integer >= %d", least)
		}
		return func(c *aelib.Config) { apply(c, v) }, nil
	}
}

// floatFlag parses a finite number above low (op ">") or at least low (op ">="), and below high
// when high is finite.
func floatFlag(op string, low, high float64, apply func(*aelib.Config, float64)) func(string) (func(*aelib.Config), error) {
	return func(s string) (func(*aelib.Config), error) {
		v, err := strconv.ParseFloat(s, 64)
		ok := err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) && (v > low || (op == ">=" && v == low)) && (math.IsInf(high, 1) || v < high)
		if !ok {
			if math.IsInf(high, 1) {
				return nil, fmt.Errorf("must be a finite number %s %g", op, low)
			}
			return nil, fmt.Errorf("must be a finite number in (%g,%g)", low, high)
		}
		return func(c *aelib.Config) { apply(c, v) }, nil
	}
}

// NewConfigFlags returns the flags with nothing set: Config gives the vanilla model's defaults.
func NewConfigFlags() *ConfigFlags {
	return &ConfigFlags{model: aelib.ModelVanilla, set: map[string]func(*aelib.Config){}}
}

// ConfigFlagNames are the names of the setting flags (without --model and --quick): the
// parameters a sweep spec may vary.
func ConfigFlagNames() []string {
	names := make([]string, len(configFlags))
	for i, d := range configFlags {
		names[i] = d.name
	}
	return names
}

// Register defines --model, --quick and the setting flags on fs.
func (f *ConfigFlags) Register(fs *flag.FlagSet) {
	fs.Var(modelValue{f}, "model", "model: "+strings.Join(aelib.Models(), ", ")) // package flag adds "(default vanilla)" from String
	fs.BoolVar(&f.quick, "quick", false, "short settings: few epochs on data subsets (each model's aelib.Variant.Quick)")
	f.RegisterSettings(fs)
}

// RegisterSettings defines the setting flags alone on fs, for a command that chooses models its
// own way (`aelab bench --model all`) and calls ConfigFor.
func (f *ConfigFlags) RegisterSettings(fs *flag.FlagSet) {
	for i := range configFlags {
		fs.Var(&settingValue{f: f, def: &configFlags[i]}, configFlags[i].name, configFlags[i].usage)
	}
}

// Set sets a flag by name as the command line would (`--name=value`): a sweep spec's parameter.
func (f *ConfigFlags) Set(name, value string) error {
	var v flag.Value
	switch name {
	case "model":
		v = modelValue{f}
	case "quick":
		q, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("invalid value %q for quick: must be true or false", value)
		}
		f.quick = q
		return nil
	default:
		i := slices.IndexFunc(configFlags, func(d configFlag) bool { return d.name == name })
		if i < 0 {
			return fmt.Errorf("unknown setting %q (known: model, quick, %s)", name, strings.Join(ConfigFlagNames(), ", "))
		}
		v = &settingValue{f: f, def: &configFlags[i]}
	}
	if err := v.Set(value); err != nil {
		return fmt.Errorf("invalid value %q for %s: %w", value, name, err)
	}
	return nil
}

// IsSet reports whether a setting flag was given.
func (f *ConfigFlags) IsSet(name string) bool {
	_, ok := f.set[name]
	return ok
}

// Config is the config the flags describe: --model's defaults, shortened by --quick, changed by
// the setting flags given.
func (f *ConfigFlags) Config() (aelib.Config, error) { return f.ConfigFor(f.model, f.quick) }

// ConfigFor is the config of a model the caller names (a notebook cell that trains the deep
// model): its defaults, shortened when quick (or --quick) is set, changed by the setting flags
// given. A --model flag that names another model is an error.
func (f *ConfigFlags) ConfigFor(model string, quick bool) (aelib.Config, error) {
	if f.modelSet && f.model != model {
		return aelib.Config{}, fmt.Errorf("--model %s: this trains %s", f.model, model)
	}
	v, err := aelib.LookupVariant(model)
	if err != nil {
		return aelib.Config{}, err
	}
	cfg, _ := aelib.DefaultConfig(model)
	if quick || f.quick {
		cfg = cfg.Quick()
	}
	for _, d := range configFlags {
		apply, ok := f.set[d.name]
		if !ok {
			continue
		}
		if !v.Reads(d.setting) {
			return cfg, fmt.Errorf("--%s does not apply to model %s (only to %s)", d.name, model, strings.Join(readers(d.setting), ", "))
		}
		apply(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// readers are the models that read a setting.
func readers(setting string) []string {
	var out []string
	for _, v := range aelib.Variants() {
		if v.Reads(setting) {
			out = append(out, v.Name)
		}
	}
	return out
}

// CellFlags defines the config flags on flag.CommandLine, which GoNB parses with the arguments
// of a cell's %% line, and returns them. Declare them once in a notebook, beside its helpers,
// so that every cell accepts them:
//
//	var cellFlags = experiments.CellFlags()
//
// and a training cell takes its config in one call: cellFlags.ConfigFor(aelib.ModelVanilla,
// quick); `%% --epochs=3 --noise=0.3` then trains 3 epochs with noise 0.3.
func CellFlags() *ConfigFlags {
	f := NewConfigFlags()
	f.Register(flag.CommandLine)
	return f
}

// modelValue is --model: a model of the registry.
type modelValue struct{ f *ConfigFlags }

func (v modelValue) String() string {
	if v.f == nil {
		return ""
	}
	return v.f.model
}

func (v modelValue) Set(s string) error {
	if _, err := aelib.LookupVariant(s); err != nil {
		return fmt.Errorf("unknown model (known: %s)", strings.Join(aelib.Models(), ", "))
	}
	v.f.model, v.f.modelSet = s, true
	return nil
}

// settingValue is a setting flag: it remembers the value given, checked.
type settingValue struct {
	f   *ConfigFlags
	def *configFlag
	raw string
}

func (v *settingValue) String() string { return v.raw }

func (v *settingValue) Set(s string) error {
	apply, err := v.def.parse(s)
	if err != nil {
		return err
	}
	v.raw = s
	v.f.set[v.def.name] = apply
	return nil
}
