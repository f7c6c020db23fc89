package sweeps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
)

// A spec names config settings by the names of `aelab train`'s flags (experiments.ConfigFlags,
// the one definition) and metrics by the metric schema's names (experiments.Metrics).

// checkParamName reports a name that is not a config setting, listing the valid ones.
func checkParamName(name string) error {
	if name == "model" || slices.Contains(experiments.ConfigFlagNames(), name) {
		return nil // the callers say where the model goes
	}
	return fmt.Errorf("unknown parameter %q (valid: %s)", name, strings.Join(experiments.ConfigFlagNames(), ", "))
}

// configFlags are a spec's flags: its model and base settings.
func (s *Spec) configFlags() (*experiments.ConfigFlags, error) { return s.flagsWith(s.Base) }

// flagsWith are the flags of the spec's model with these base settings.
func (s *Spec) flagsWith(base []Setting) (*experiments.ConfigFlags, error) {
	f := experiments.NewConfigFlags()
	if err := f.Set("model", s.Model); err != nil {
		return nil, err
	}
	for _, b := range base {
		if err := f.Set(b.Name, b.Value); err != nil {
			return nil, &SpecError{File: s.File, Line: b.Line, Field: "base." + b.Name, Msg: err.Error()}
		}
	}
	return f, nil
}

// modelNames are the models a sweep may start from.
func modelNames() []string { return aelib.Models() }

// DefaultMetric is what a sweep optimises unless its spec says otherwise.
var DefaultMetric = experiments.ValBCE.Name

// LookupMetric returns what the metric schema says of a metric a sweep may optimise: one
// logged every epoch or once at the end, with a better direction.
func LookupMetric(name string) (Metric, error) {
	m, ok := experiments.LookupMetric(name)
	if !ok || m.Better == aelib.NeitherBetter || (m.Kind != experiments.PerEpoch && m.Kind != experiments.Final) {
		return Metric{}, fmt.Errorf("unknown metric %q (known: %s)", name, strings.Join(optimisable(false), ", "))
	}
	return Metric{Name: m.Name, LowerIsBetter: m.Better == aelib.LowerIsBetter, PerEpoch: m.Kind == experiments.PerEpoch}, nil
}

// optimisable lists the metrics a sweep may optimise (perEpoch: only those logged every epoch).
func optimisable(perEpoch bool) []string {
	var out []string
	for _, m := range experiments.Metrics() {
		if m.Better != aelib.NeitherBetter && (m.Kind == experiments.PerEpoch || !perEpoch && m.Kind == experiments.Final) {
			out = append(out, m.Name)
		}
	}
	return out
}

// epochValue is the value of a per-epoch metric in one epoch's measurements.
func epochValue(name string, e aelib.EpochMetrics) (float64, bool) {
	m, ok := experiments.LookupMetric(name)
	if !ok {
		return 0, false
	}
	return m.InEpoch(e)
}
