package sweeps

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/tracker"
)

// Program sweeps: a spec that names a command instead of a model runs that program for each
// trial, W&B's agent's way — the base settings and the trial's parameters appended as
// --name=value arguments (and --seed=N for each of the spec's seeds) — tracked as `aelab run`
// tracks a program (track.RunCommand): its name=value stdout lines are its metrics, its exit
// status its run's status. The spec's metric is one the program reports, minimised unless
// goal: maximize; early stopping reads it at each epoch=N the program reports.
//
//	command: [python3, train.py]
//	parameters:
//	  lr: [0.01, 0.1]
//	metric: val_loss

// maxCommandArgs bounds a spec's command.
const maxCommandArgs = 256

// hasKey reports whether a YAML mapping has key.
func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// command reads command: a non-empty list of words, the program first.
func (p *specParser) command(n *yaml.Node) ([]string, error) {
	items, err := p.list(n, "command")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > maxCommandArgs {
		return nil, p.errf(n, "command", "a command is a list of 1 to %d words, the program first (e.g. [python3, train.py])", maxCommandArgs)
	}
	out := make([]string, len(items))
	for i, it := range items {
		if out[i], err = p.scalar(it, "command"); err != nil {
			return nil, err
		}
		if out[i] == "" || strings.ContainsRune(out[i], 0) {
			return nil, p.errf(it, "command", "word %d is empty or holds a NUL byte", i+1)
		}
	}
	return out, nil
}

// checkParamName checks a base setting's or a parameter's name: a config flag of a model
// sweep, or a flag name of a program sweep.
func (p *specParser) checkParamName(name string) error {
	if !p.program {
		return checkParamName(name)
	}
	if name == "seed" {
		return nil // the callers say where seeds go
	}
	if !validFlagName(name) {
		return fmt.Errorf("%q is not a flag name (letters, digits, '_', '-' and '.', starting with a letter, at most 64)", name)
	}
	return nil
}

// validFlagName reports whether name may become a program's --name=value argument.
func validFlagName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// programDefaults fills in and checks a program sweep's spec: no model, a metric the program
// reports and its goal.
func (p *specParser) programDefaults(s *Spec, root, modelNode, metricNode, goalNode *yaml.Node) error {
	if modelNode != nil {
		return p.errf(modelNode, "model", "give either model or command, not both")
	}
	if len(s.Parameters) == 0 {
		return p.errf(root, "parameters", "missing: a sweep needs at least one parameter to vary")
	}
	if metricNode == nil {
		return p.errf(root, "metric", "missing: the metric the program reports on stdout (name=value) that the sweep optimises")
	}
	if !validMetric(s.Metric.Name) {
		return p.errf(metricNode, "metric", "%q is not a metric name a program can report (letters, digits, '_', '.', '-', '/')", s.Metric.Name)
	}
	s.Metric.LowerIsBetter = goalNode == nil || goalNode.Value == "minimize"
	s.Metric.PerEpoch = true // reported as the program goes (epoch=N lines feed early stopping)
	return p.commonDefaults(s, root, metricNode)
}

// validMetric reports whether name is a metric name a program's stdout can log.
func validMetric(name string) bool {
	m, ok, _ := track.ParseMetricLine(name + "=0")
	return ok && len(m.Values) == 1
}

// modelOrCommand is what a sweep's record names as its model: the model, or a program
// sweep's command line.
func (s *Spec) modelOrCommand() string {
	if s.Command != nil {
		return strings.Join(s.Command, " ")
	}
	return s.Model
}

// TrialCommand is the command line trial t runs: the spec's command, then the base settings
// and the trial's parameters as --name=value, and --seed=N for its seed; nil for a model sweep.
func (s *Spec) TrialCommand(t Trial) []string {
	if s.Command == nil {
		return nil
	}
	out := append([]string{}, s.Command...)
	for _, b := range s.Base {
		out = append(out, "--"+b.Name+"="+b.Value)
	}
	for _, p := range s.Parameters {
		out = append(out, "--"+p.Name+"="+t.Params[p.Name])
	}
	if t.Seed != 0 {
		out = append(out, "--seed="+strconv.FormatUint(t.Seed, 10))
	}
	return out
}

// runProgram runs a program trial as a run of the store and returns its run's id. A program
// that fails (exit status not 0) fails the trial; one stopped by ctx is KILLED; one the
// sweep's early-stopping rule stops ends FINISHED, tagged as a model trial would be.
func (w *trialWorker) runProgram(ctx context.Context, a TrialArgs, tags map[string]string, st *stopper, started func(string)) (string, error) {
	ps := &programStopper{stopper: st}
	res, err := track.RunCommand(ctx, track.Command{
		Args: a.Command,
		Options: track.Options{Store: w.store, Experiment: a.Sweep.Experiment, Name: fmt.Sprintf("%s-t%03d", a.Sweep.Name, a.Index),
			Source: "sweep", Params: a.Params, Tags: tags},
		Started: func(runID string) {
			st.runID = runID
			started(runID)
		},
		Metrics: ps.metrics,
	})
	if err != nil {
		if res != nil {
			return res.RunID, err
		}
		return "", err
	}
	switch res.Status {
	case tracker.StatusFinished:
		return res.RunID, nil
	case tracker.StatusKilled:
		if cause := context.Cause(ctx); cause != nil {
			return res.RunID, cause
		}
	}
	return res.RunID, errors.New(res.Reason)
}

// programStopper applies the sweep's early-stopping rule to a program's reported metric at
// each epoch it reports.
type programStopper struct{ stopper *stopper }

func (p *programStopper) metrics(_ int64, epoch int, values map[string]float64) error {
	own, ok := values[p.stopper.args.Sweep.Metric.Name]
	if !ok || !p.stopper.stops(epoch, math.MaxInt32, own) { // a program's last epoch is not known
		return nil
	}
	return track.ErrStopProgram
}
