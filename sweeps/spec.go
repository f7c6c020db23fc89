package sweeps

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Search methods.
const (
	MethodGrid   = "grid"   // every combination of the parameters' values
	MethodRandom = "random" // Spec.Trials draws from the parameters' distributions
)

// Parameter kinds: a list of values, or a distribution (random search only).
const (
	KindChoice     = "choice"      // one of a list of values (a grid axis in grid search)
	KindUniform    = "uniform"     // a float drawn uniformly from [min, max]
	KindLogUniform = "log_uniform" // a float whose logarithm is uniform in [log min, log max]
	KindIntRange   = "int_range"   // an integer drawn uniformly from min..max, both included
)

// Early-stopping rules.
const (
	RuleMedian = "median" // stop a trial worse than the median of the completed trials at the same epoch
	RuleASHA   = "asha"   // asynchronous successive halving: at each rung, keep the best 1/η
)

// MaxGridTrials is the largest sweep created without Options.AllowLarge: a bigger grid is
// more often a typo than a plan.
const MaxGridTrials = 1000

// Spec is a sweep as its author wrote it: the base configuration, the parameters to vary and
// how, the metric to optimise, early stopping, and how the trials are run. ParseSpec reads one
// from YAML; every field has a default except Model (or Command) and Parameters.
type Spec struct {
	Name       string      // the sweep's name; the file name without extension when empty
	Experiment string      // the store experiment the trials land in; "sweeps" when empty
	Model      string      // the base model (vanilla, deep, denoise, …) whose defaults start every trial
	Command    []string    // a program each trial runs instead of a model, with --name=value arguments (command.go)
	Base       []Setting   // settings shared by every trial, by config flag name (epochs, subset, …)
	Parameters []Parameter // what varies, in the spec's order
	Method     string      // MethodGrid (default) or MethodRandom
	Trials     int         // random search: how many configurations to draw
	Seeds      []uint64    // each configuration runs once per seed; the model's default seed when empty
	RandomSeed uint64      // seeds the random search's draws (default 1), so a spec always means the same trials
	Metric     Metric      // what the sweep optimises (default val_bce, minimised)
	Stopping   *Stopping   // early stopping; nil for none
	// MaxParallel caps how many trials of this sweep run at once across all workers (0: no cap).
	MaxParallel int
	Queue       string        // River queue of the trials: "cpu" (default) or "gpu"
	MaxAttempts int           // attempts per trial before River gives up (default 3; a rescued trial is a new attempt)
	Timeout     time.Duration // a trial still running after this is stopped (default 1 h); also bounds when a dead worker's trial is rescued

	File   string // where the spec was read from (for messages)
	Source []byte // the spec's text, kept with the sweep
}

// Setting is one config flag and its value as written ("epochs: 2").
type Setting struct {
	Name, Value string
	Line        int
}

// Parameter is one varied setting: a config flag name and its values or distribution.
type Parameter struct {
	Name   string
	Kind   string   // KindChoice, KindUniform, KindLogUniform or KindIntRange
	Values []string // KindChoice: the values as written
	Min    float64  // distributions: the range, both ends included
	Max    float64
	Line   int // where the spec names it
}

// Metric is what a sweep optimises: a metric name and whether lower is better.
type Metric struct {
	Name          string
	LowerIsBetter bool
	PerEpoch      bool // logged every epoch (early stopping needs one) rather than once at the end
}

// Goal is "minimize" or "maximize".
func (m Metric) Goal() string {
	if m.LowerIsBetter {
		return "minimize"
	}
	return "maximize"
}

// Better reports whether metric value a is better than b (NaN is never better).
func (m Metric) Better(a, b float64) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	case m.LowerIsBetter:
		return a < b
	}
	return a > b
}

// Stopping is an early-stopping rule.
type Stopping struct {
	Rule string // RuleMedian or RuleASHA
	// WarmupEpochs: no trial is stopped before this epoch (median default 1; ASHA's first
	// rung, its grace period, default 1).
	WarmupEpochs int
	// MinTrials (median): the rule acts once this many trials have finished (default 3).
	MinTrials int
	// ReductionFactor (ASHA, η): rungs at epochs w, w·η, w·η², …; a trial reaching a rung
	// goes on only if it is among the best 1/η of the trials that reached it (default 3).
	ReductionFactor int
}

// SpecError is a spec that cannot be used: where (file, line) and which field, and why.
type SpecError struct {
	File  string
	Line  int // 1-based; 0 when the problem has no single line
	Field string
	Msg   string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadSpec reads and checks a spec file (see ParseSpec).
func ReadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep spec: %w", err)
	}
	return ParseSpec(path, b)
}

// specKeys are the top-level keys of a spec, in the order the documentation gives them.
var specKeys = []string{"name", "experiment", "model", "command", "goal", "base", "parameters", "method", "trials", "seeds", "random_seed",
	"metric", "early_stopping", "max_parallel", "queue", "max_attempts", "trial_timeout"}

// ParseSpec reads a sweep spec from YAML; file names it in errors (and, without a name key,
// names the sweep). Every problem it finds is a *SpecError naming the line and field: YAML
// syntax, unknown keys, an unknown config parameter (the error lists the valid ones), values
// of the wrong type, a distribution in a grid, a metric the schema does not know, and any
// trial whose configuration would not train.
func ParseSpec(file string, src []byte) (*Spec, error) {
	p := specParser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, p.yamlError(err)
	}
	if len(doc.Content) == 0 {
		return nil, &SpecError{File: file, Msg: "empty spec (it needs at least model and parameters)"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "", "a spec is a mapping of keys (model, parameters, …), got %s", kindName(root))
	}
	p.program = hasKey(root, "command")
	s := &Spec{File: file, Source: append([]byte(nil), src...)}
	var modelNode, metricNode, goalNode *yaml.Node
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if err := p.once(seen, k, k.Value); err != nil {
			return nil, err
		}
		var err error
		switch k.Value {
		case "name":
			s.Name, err = p.str(v, "name")
		case "experiment":
			s.Experiment, err = p.str(v, "experiment")
		case "model":
			modelNode = v
			s.Model, err = p.str(v, "model")
		case "command":
			s.Command, err = p.command(v)
		case "goal":
			goalNode = v
			_, err = p.oneOf(v, "goal", "minimize", "maximize")
		case "base":
			s.Base, err = p.settings(v)
		case "parameters":
			s.Parameters, err = p.parameters(v)
		case "method":
			s.Method, err = p.oneOf(v, "method", MethodGrid, MethodRandom)
		case "trials":
			s.Trials, err = p.positiveInt(v, "trials")
		case "seeds":
			s.Seeds, err = p.seeds(v)
		case "random_seed":
			s.RandomSeed, err = p.uint(v, "random_seed")
		case "metric":
			metricNode = v
			s.Metric.Name, err = p.str(v, "metric")
		case "early_stopping":
			s.Stopping, err = p.stopping(v)
		case "max_parallel":
			s.MaxParallel, err = p.positiveInt(v, "max_parallel")
		case "queue":
			s.Queue, err = p.oneOf(v, "queue", QueueCPU, QueueGPU)
		case "max_attempts":
			s.MaxAttempts, err = p.positiveInt(v, "max_attempts")
		case "trial_timeout":
			s.Timeout, err = p.duration(v, "trial_timeout")
		default:
			err = p.errf(k, k.Value, "unknown key (valid: %s)", strings.Join(specKeys, ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	if s.Command != nil {
		return s, p.programDefaults(s, root, modelNode, metricNode, goalNode)
	}
	if goalNode != nil {
		return nil, p.errf(goalNode, "goal", "only with command: a model's metrics say their direction")
	}
	if err := p.defaults(s, root, modelNode, metricNode); err != nil {
		return nil, err
	}
	return s, nil
}

// defaults fills in what the spec left out and checks what needs the whole spec.
func (p *specParser) defaults(s *Spec, root, modelNode, metricNode *yaml.Node) error {
	if modelNode == nil {
		return p.errf(root, "model", "missing: the base model (%s)", strings.Join(modelNames(), ", "))
	}
	if !slices.Contains(modelNames(), s.Model) {
		return p.errf(modelNode, "model", "unknown model %q (known: %s)", s.Model, strings.Join(modelNames(), ", "))
	}
	if len(s.Parameters) == 0 {
		return p.errf(root, "parameters", "missing: a sweep needs at least one parameter to vary")
	}
	return p.commonDefaults(s, root, metricNode)
}

// commonDefaults fills in and checks what model and program sweeps share.
func (p *specParser) commonDefaults(s *Spec, root, metricNode *yaml.Node) error {
	if s.Name == "" {
		s.Name = specName(p.file)
	}
	if s.Experiment == "" {
		s.Experiment = DefaultExperiment
	}
	if s.Method == "" {
		s.Method = MethodGrid
	}
	switch {
	case s.Method == MethodRandom && s.Trials == 0:
		return p.errf(root, "trials", "missing: random search needs the number of trials to draw")
	case s.Method == MethodGrid && s.Trials != 0:
		return p.errf(root, "trials", "only for method: random (a grid runs every combination)")
	}
	if s.Method == MethodGrid {
		for _, prm := range s.Parameters {
			if prm.Kind != KindChoice {
				return &SpecError{File: p.file, Line: prm.Line, Field: "parameters." + prm.Name,
					Msg: fmt.Sprintf("%s is a distribution: a grid needs a list of values (or method: random)", prm.Kind)}
			}
		}
	}
	if s.RandomSeed == 0 {
		s.RandomSeed = 1
	}
	if s.Command == nil {
		if s.Metric.Name == "" {
			s.Metric.Name = DefaultMetric
		}
		m, err := LookupMetric(s.Metric.Name)
		if err != nil {
			n := metricNode
			if n == nil {
				n = root
			}
			return p.errf(n, "metric", "%v", err)
		}
		s.Metric = m
	}
	if s.Stopping != nil && !s.Metric.PerEpoch {
		return &SpecError{File: p.file, Line: lineOf(metricNode, root), Field: "early_stopping",
			Msg: fmt.Sprintf("needs a metric logged every epoch; %s is logged once at the end (per-epoch: %s)", s.Metric.Name, strings.Join(optimisable(true), ", "))}
	}
	if s.Queue == "" {
		s.Queue = QueueCPU
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = DefaultMaxAttempts
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTrialTimeout
	}
	if s.Command != nil {
		return nil
	}
	return p.checkValues(s)
}

// checkValues tries the base settings and every parameter value (a distribution's ends) on
// the model, so a value that cannot train is reported with its line now, not by a worker later.
func (p *specParser) checkValues(s *Spec) error {
	for _, b := range s.Base {
		if b.Name == "seed" && len(s.Seeds) > 0 {
			return &SpecError{File: p.file, Line: b.Line, Field: "base.seed", Msg: "give either base.seed or seeds, not both"}
		}
	}
	if _, err := s.BaseConfig(); err != nil {
		return err
	}
	for _, prm := range s.Parameters {
		values := prm.Values
		if prm.Kind != KindChoice {
			values = []string{flagNumber(prm.Min), flagNumber(prm.Max)}
		}
		for _, v := range values {
			f, err := s.configFlags()
			if err != nil {
				return err
			}
			msg := ""
			if err := f.Set(prm.Name, v); err != nil {
				msg = err.Error() // names the value and the parameter
			} else if cfg, err := f.Config(); err != nil {
				msg = fmt.Sprintf("%s=%s: %v", prm.Name, v, err)
			} else if err := cfg.CheckSize(); err != nil { // sizes too large to count, before any trial is made
				msg = fmt.Sprintf("%s=%s: %v", prm.Name, v, err)
			}
			if msg != "" {
				return &SpecError{File: p.file, Line: prm.Line, Field: "parameters." + prm.Name, Msg: msg}
			}
		}
	}
	return nil
}

func lineOf(n, fallback *yaml.Node) int {
	if n != nil {
		return n.Line
	}
	return fallback.Line
}

// specName is a file name without folder and extension ("filters.yaml" → "filters").
func specName(file string) string {
	base := file[strings.LastIndexAny(file, `/\`)+1:]
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if base == "" {
		return "sweep"
	}
	return base
}
