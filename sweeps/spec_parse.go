package sweeps

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file reads a spec's YAML nodes into its fields; every error names the node's line.

// specParser turns YAML nodes into spec fields, with errors that name the line.
type specParser struct {
	file    string
	program bool // the spec names a command: parameters are the program's flags, not config flags
}

func (p *specParser) errf(n *yaml.Node, field, format string, args ...any) error {
	return &SpecError{File: p.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a YAML syntax error into a SpecError with its line.
func (p *specParser) yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	e := &SpecError{File: p.file, Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "YAML: " + m[2]
	}
	return e
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// scalar checks that n is a single value (not a list, mapping or null).
func (p *specParser) scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errf(n, field, "expected a single value, got %s", kindName(n))
	}
	return n.Value, nil
}

func (p *specParser) str(n *yaml.Node, field string) (string, error) {
	v, err := p.scalar(n, field)
	if err == nil && strings.TrimSpace(v) == "" {
		err = p.errf(n, field, "empty")
	}
	return v, err
}

func (p *specParser) oneOf(n *yaml.Node, field string, valid ...string) (string, error) {
	v, err := p.scalar(n, field)
	if err == nil && !slices.Contains(valid, v) {
		err = p.errf(n, field, "unknown value %q (valid: %s)", v, strings.Join(valid, ", "))
	}
	return v, err
}

func (p *specParser) positiveInt(n *yaml.Node, field string) (int, error) {
	v, err := p.scalar(n, field)
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(v)
	if err != nil || i <= 0 {
		return 0, p.errf(n, field, "expected a whole number > 0, got %q", v)
	}
	return i, nil
}

func (p *specParser) uint(n *yaml.Node, field string) (uint64, error) {
	v, err := p.scalar(n, field)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, p.errf(n, field, "expected a whole number >= 0, got %q", v)
	}
	return u, nil
}

func (p *specParser) number(n *yaml.Node, field string) (float64, error) {
	v, err := p.scalar(n, field)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, p.errf(n, field, "expected a finite number, got %q", v)
	}
	return f, nil
}

func (p *specParser) duration(n *yaml.Node, field string) (time.Duration, error) {
	v, err := p.scalar(n, field)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, p.errf(n, field, "expected a duration > 0 such as 30m or 2h, got %q", v)
	}
	return d, nil
}

func (p *specParser) mapping(n *yaml.Node, field string) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, field, "expected a mapping, got %s", kindName(n))
	}
	return nil
}

// once refuses a key given twice in one mapping (YAML keeps the last silently), naming both lines.
func (p *specParser) once(seen map[string]*yaml.Node, k *yaml.Node, field string) error {
	if prev := seen[k.Value]; prev != nil {
		return p.errf(k, field, "given twice (first at line %d)", prev.Line)
	}
	seen[k.Value] = k
	return nil
}

// settings reads base: a mapping of config flag names to single values.
func (p *specParser) settings(n *yaml.Node) ([]Setting, error) {
	if err := p.mapping(n, "base"); err != nil {
		return nil, err
	}
	var out []Setting
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := "base." + k.Value
		if err := p.once(seen, k, field); err != nil {
			return nil, err
		}
		if err := p.checkParamName(k.Value); err != nil {
			return nil, p.errf(k, field, "%v", err)
		}
		if k.Value == "model" {
			return nil, p.errf(k, field, "the model is the top-level key model")
		}
		val, err := p.scalar(v, field)
		if err != nil {
			return nil, err
		}
		out = append(out, Setting{Name: k.Value, Value: val, Line: v.Line})
	}
	return out, nil
}

// parameters reads parameters: each name maps to a list (choice) or a one-key mapping naming
// a distribution and its [min, max].
func (p *specParser) parameters(n *yaml.Node) ([]Parameter, error) {
	if err := p.mapping(n, "parameters"); err != nil {
		return nil, err
	}
	var out []Parameter
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := "parameters." + k.Value
		if err := p.once(seen, k, field); err != nil {
			return nil, err
		}
		if err := p.checkParamName(k.Value); err != nil {
			return nil, p.errf(k, field, "%v", err)
		}
		switch k.Value {
		case "model":
			return nil, p.errf(k, field, "a sweep varies one model's settings; run one sweep per model")
		case "seed":
			return nil, p.errf(k, field, "seeds are the top-level key seeds (every configuration runs once per seed)")
		}
		prm := Parameter{Name: k.Value, Line: k.Line}
		body := v
		if v.Kind == yaml.MappingNode {
			if len(v.Content) != 2 {
				return nil, p.errf(v, field, "expected one of %s, %s, %s or %s", KindChoice, KindUniform, KindLogUniform, KindIntRange)
			}
			prm.Kind, body = v.Content[0].Value, v.Content[1]
			field += "." + prm.Kind
		} else {
			prm.Kind = KindChoice // a bare list
		}
		list, err := p.list(body, field)
		if err != nil {
			return nil, err
		}
		switch prm.Kind {
		case KindChoice:
			if len(list) == 0 {
				return nil, p.errf(body, field, "no values")
			}
			for _, item := range list {
				val, err := p.scalar(item, field)
				if err != nil {
					return nil, err
				}
				val = wholeNumber(item, val)
				if slices.Contains(prm.Values, val) {
					return nil, p.errf(item, field, "value %s given twice", val)
				}
				prm.Values = append(prm.Values, val)
			}
		case KindUniform, KindLogUniform, KindIntRange:
			if len(list) != 2 {
				return nil, p.errf(body, field, "expected [min, max], got %d values", len(list))
			}
			if prm.Min, err = p.number(list[0], field); err != nil {
				return nil, err
			}
			if prm.Max, err = p.number(list[1], field); err != nil {
				return nil, err
			}
			if err := p.checkRange(prm, body, field); err != nil {
				return nil, err
			}
		default:
			return nil, p.errf(v.Content[0], "parameters."+k.Value, "unknown kind %q (valid: %s, %s, %s, %s)",
				prm.Kind, KindChoice, KindUniform, KindLogUniform, KindIntRange)
		}
		out = append(out, prm)
	}
	return out, nil
}

// wholeNumber writes a YAML float in exponent form that is a whole number as an integer
// ("1e6" → "1000000"), so an integer setting accepts it; any other value stays as written.
func wholeNumber(n *yaml.Node, val string) string {
	if n.Tag != "!!float" || !strings.ContainsAny(val, "eE") {
		return val
	}
	if f, err := strconv.ParseFloat(val, 64); err == nil && f == math.Trunc(f) {
		return flagNumber(f)
	}
	return val
}

func (p *specParser) checkRange(prm Parameter, n *yaml.Node, field string) error {
	switch {
	case prm.Min > prm.Max:
		return p.errf(n, field, "min %g is above max %g", prm.Min, prm.Max)
	case prm.Kind == KindLogUniform && prm.Min <= 0:
		return p.errf(n, field, "a log-uniform range needs min > 0, got %g", prm.Min)
	case prm.Kind == KindIntRange && (prm.Min != math.Trunc(prm.Min) || prm.Max != math.Trunc(prm.Max)):
		return p.errf(n, field, "an int range needs whole numbers, got [%g, %g]", prm.Min, prm.Max)
	}
	return nil
}

func (p *specParser) list(n *yaml.Node, field string) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, field, "expected a list such as [8, 16, 32], got %s", kindName(n))
	}
	return n.Content, nil
}

func (p *specParser) seeds(n *yaml.Node) ([]uint64, error) {
	list, err := p.list(n, "seeds")
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, item := range list {
		s, err := p.uint(item, "seeds")
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, s) {
			return nil, p.errf(item, "seeds", "seed %d given twice", s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, p.errf(n, "seeds", "no seeds")
	}
	return out, nil
}

// stopping reads early_stopping: {rule: median|asha, …}.
func (p *specParser) stopping(n *yaml.Node) (*Stopping, error) {
	if err := p.mapping(n, "early_stopping"); err != nil {
		return nil, err
	}
	st := &Stopping{}
	var ruleNode *yaml.Node
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := "early_stopping." + k.Value
		if err := p.once(keys, k, field); err != nil {
			return nil, err
		}
		var err error
		switch k.Value {
		case "rule":
			ruleNode = v
			st.Rule, err = p.oneOf(v, field, RuleMedian, RuleASHA)
		case "warmup_epochs":
			st.WarmupEpochs, err = p.positiveInt(v, field)
		case "min_trials":
			st.MinTrials, err = p.positiveInt(v, field)
		case "reduction_factor":
			st.ReductionFactor, err = p.positiveInt(v, field)
			if err == nil && st.ReductionFactor < 2 {
				err = p.errf(v, field, "must be at least 2, got %d", st.ReductionFactor)
			}
		default:
			err = p.errf(k, field, "unknown key (valid: rule, warmup_epochs, min_trials (median), reduction_factor (asha))")
		}
		if err != nil {
			return nil, err
		}
	}
	if ruleNode == nil {
		return nil, p.errf(n, "early_stopping.rule", "missing: %s or %s", RuleMedian, RuleASHA)
	}
	if k := keys["min_trials"]; k != nil && st.Rule != RuleMedian {
		return nil, p.errf(k, "early_stopping.min_trials", "only for rule: median")
	}
	if k := keys["reduction_factor"]; k != nil && st.Rule != RuleASHA {
		return nil, p.errf(k, "early_stopping.reduction_factor", "only for rule: asha")
	}
	if st.WarmupEpochs == 0 {
		st.WarmupEpochs = 1
	}
	if st.Rule == RuleMedian && st.MinTrials == 0 {
		st.MinTrials = 3
	}
	if st.Rule == RuleASHA && st.ReductionFactor == 0 {
		st.ReductionFactor = 3
	}
	return st, nil
}
