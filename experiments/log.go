package experiments

import (
	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// LogEpoch logs one epoch's measurements as the schema's per-epoch metrics, at the epoch's
// global step. Run logs every epoch through it; test fixtures call it with made-up measurements.
func LogEpoch(run *tracker.Run, m aelib.EpochMetrics) error {
	values := map[string]float64{}
	for _, metric := range schema {
		if metric.Kind == PerEpoch {
			values[metric.Name] = metric.epoch(m)
		}
	}
	return run.LogMetrics(values, m.Step, m.Epoch)
}

// LogResults logs a trained run's final metrics (evaluation, sizes, timings, digit classes and
// the model's own measures) at the last epoch's step, and its checkpoint as an artifact. res
// needs Model.Arch (for the sizes), History and Evaluation; Run logs through it, and so can a
// test fixture with made-up results.
func LogResults(run *tracker.Run, res *Result) error {
	final := map[string]float64{}
	for _, metric := range schema {
		if metric.final == nil {
			continue
		}
		if v, ok := metric.final(res); ok {
			final[metric.Name] = v
		}
	}
	for digit, v := range res.Evaluation.DigitMSE {
		final[DigitMSE.For(digit).Name] = v
	}
	for name, v := range res.Evaluation.Variant {
		if m, ok := LookupMetric(name); !ok || m.Kind != Final {
			return errUndeclared(name, Final)
		}
		final[name] = v
	}
	var step int64
	epochs := 0
	if h := res.History; h != nil && len(h.Epochs) > 0 {
		epochs = len(h.Epochs)
		step = h.Epochs[epochs-1].Step
	}
	if err := run.LogMetrics(final, step, epochs); err != nil {
		return err
	}
	if res.CheckpointDir != "" {
		if err := run.LogArtifact("checkpoint", res.CheckpointDir, "weights and config (aelib.Load)"); err != nil {
			return err
		}
	}
	return nil
}

// LogSample logs values of the schema's sampled metrics (system.*) at a step; a name the schema
// does not declare as sampled is an error and nothing is logged.
func LogSample(run *tracker.Run, values map[string]float64, step int64, epoch int) error {
	for name := range values {
		if m, ok := LookupMetric(name); !ok || m.Kind != Sampled {
			return errUndeclared(name, Sampled)
		}
	}
	if len(values) == 0 {
		return nil
	}
	return run.LogMetrics(values, step, epoch)
}
