package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/aelib/metrics"
	"github.com/aelab/aelab/tracker"
)

// DefaultExperiment is the experiment runs land in unless a Spec names another.
const DefaultExperiment = "course"

// Spec is one training run to do: the config and how the run is labelled in the store.
type Spec struct {
	Config        aelib.Config
	Name          string            // run name; the model name when empty
	Section       string            // course section (a tag), e.g. "1.2"
	Experiment    string            // DefaultExperiment when empty
	Source        string            // "cli", "notebook", "test", …
	Tags          map[string]string // more tags
	CheckpointDir string            // where the weights go, a new or empty folder; checkpoints/<run id> under the store's artifact root when empty
	// Arch, when set, is a program's own autoencoder (aelib.NewCustom) to train in place of
	// Config's model: Config gives the settings every model reads, and the run is named after
	// the architecture and stores it with its config (ArchitectureOf reads it back).
	Arch *aelib.Architecture
}

// Options are the knobs of Run that do not change the result.
type Options struct {
	ProgressBar bool          // a progress line on stderr, rewritten in place
	Log         io.Writer     // one line per epoch and the final evaluation; nil for none
	Data        *data.Dataset // the data set already loaded; nil loads Config.Dataset
	// Observers see every epoch after it is logged; one returning aelib.ErrStopTraining ends
	// training early, and the run still evaluates, saves and ends FINISHED.
	Observers []aelib.Observer
	// ObserveModel, when set, is called once the model is built and the data split, and returns
	// observers that need them (a notebook's live view draws the model's reconstructions of
	// test images); they see each epoch after Observers.
	ObserveModel func(ae *aelib.Autoencoder, s aelib.Splits) []aelib.Observer
	// Started, when set, is told the run's id once the run is recorded, before training.
	Started func(runID string)
	// SystemInterval is how often a tracked run logs its system.* metrics between epochs
	// (DefaultSystemInterval when 0; < 0: at the end of each epoch only).
	SystemInterval time.Duration
}

// KillReason, as the cause of a cancelled context (context.WithCancelCause), is the reason a
// run ends KILLED with, in place of "interrupted: …".
type KillReason string

func (k KillReason) Error() string { return string(k) }

// Result is a finished run: its model, training history, evaluation and where it was saved.
type Result struct {
	RunID         string // empty when trained without a store
	Model         *aelib.Autoencoder
	History       *aelib.History
	Evaluation    Evaluation
	CheckpointDir string
}

// Evaluation scores the trained model on the test split.
type Evaluation struct {
	Test      metrics.Summary    // reconstructions (from the noisy inputs, for denoising) vs clean images
	Denoising *metrics.Denoising // noisy-vs-clean and denoised-vs-clean; nil without noise
	DigitMSE  [10]float64        // reconstruction MSE per class
	Variant   map[string]float64 // the model's own measures (aelib.Variant.Measures, Autoencoder.Measure); nil for the course's models
}

// Run trains spec.Config, logging everything to the store (nil trains without tracking):
// config, parameters, environment, every epoch's metrics, the final evaluation, and the
// checkpoint as an artifact. An error, a panic or a NaN loss ends the run FAILED with its
// reason, a cancelled ctx (SIGINT, SIGTERM) ends it KILLED; metrics logged before stay.
func Run(ctx context.Context, store *tracker.Store, spec Spec, opts Options) (res *Result, err error) {
	if spec.Arch != nil {
		if err := checkCustom(*spec.Arch); err != nil {
			return nil, err
		}
		spec.Config.Model = spec.Arch.Name
	} else if err := spec.Config.Validate(); err != nil {
		return nil, err
	}
	if spec.CheckpointDir != "" { // before training: a run never writes into another's checkpoint
		if err := aelib.CheckCheckpointDir(spec.CheckpointDir); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	ds := opts.Data
	if ds == nil || ds.Name != spec.Config.Dataset {
		if ds, err = data.Load(spec.Config.Dataset); err != nil {
			return nil, err
		}
	}
	// The run records, and trains with, the settings in effect on this data (subsets and batch
	// no larger than the data).
	cfg, notes := spec.Config.ForData(ds.Train.N, ds.Test.N)
	spec.Config = cfg
	// A model too large for this machine is refused before anything is built: untracked, at
	// once; tracked, as a FAILED run with the reason (a sweep's trial shows why it failed).
	var tooLarge error
	if spec.Arch != nil {
		tooLarge = checkCustomMemory(*spec.Arch, cfg)
	} else {
		tooLarge = cfg.CheckMemory()
	}
	if tooLarge != nil && store == nil {
		return nil, tooLarge
	}
	var ae *aelib.Autoencoder
	if spec.Arch != nil {
		ae, err = aelib.NewCustom(*spec.Arch, cfg)
	} else {
		ae, err = aelib.New(cfg)
	}
	if err != nil {
		return nil, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "%s: backend %s\n", cfg.Model, ae.Choice)
		for _, n := range notes {
			fmt.Fprintf(opts.Log, "%s: %s\n", cfg.Model, n)
		}
	}
	res = &Result{Model: ae}

	var run *tracker.Run
	if store != nil {
		if run, err = StartRun(store, spec, mergeTags(Environment(ae.Backend, ae.Choice), DataTags(ds))); err != nil {
			return nil, err
		}
		res.RunID = run.ID()
		if opts.Started != nil {
			opts.Started(res.RunID)
		}
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
			err = errors.Join(err, finishRun(ctx, run, err))
		}()
	}
	if tooLarge != nil {
		return res, tooLarge
	}

	var observers []aelib.Observer
	if run != nil {
		observers = append(observers, aelib.ObserverFunc(func(m aelib.EpochMetrics) error { return LogEpoch(run, m) }))
		system := startSystemLogger(run, cfg.Epochs, opts.SystemInterval)
		defer system.close(opts.Log)
		observers = append(observers, system)
	}
	observers = append(observers, opts.Observers...)
	splits := aelib.PrepareSplits(cfg, ds)
	if opts.ObserveModel != nil {
		observers = append(observers, opts.ObserveModel(ae, splits)...)
	}
	res.History, err = ae.Train(ctx, splits, aelib.TrainOptions{Observers: observers, ProgressBar: opts.ProgressBar, Log: opts.Log})
	if err != nil {
		return res, err
	}

	if res.Evaluation, err = Evaluate(ae, splits, ds.Test.Subset(cfg.TestSubset).Labels); err != nil {
		return res, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "%s: test %s\n", cfg.Model, res.Evaluation.Test)
		if d := res.Evaluation.Denoising; d != nil {
			fmt.Fprintf(opts.Log, "%s: noisy MSE %.4f → denoised MSE %.4f (%.1f%% better)\n", cfg.Model, d.NoisyMSE, d.DenoisedMSE, d.ImprovementPct)
		}
	}

	res.CheckpointDir = spec.CheckpointDir
	if res.CheckpointDir == "" && store != nil {
		res.CheckpointDir = filepath.Join(store.ArtifactRoot(), "checkpoints", res.RunID)
	}
	if res.CheckpointDir != "" {
		if err := ae.Save(res.CheckpointDir); err != nil {
			return res, err
		}
	}
	if run != nil {
		if err := LogResults(run, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// StartRun records a run in the store: its config (with Spec.Arch, when set, under
// "architecture"), its params (Params; for a program's own model the common settings, its loss
// and its compression path), and as tags env (where it trains: Environment), the spec's tags
// and its section. Run starts every run through it, and so can a test fixture.
func StartRun(store *tracker.Store, spec Spec, env map[string]string) (*tracker.Run, error) {
	cfg := spec.Config
	var params map[string]string
	if spec.Arch != nil {
		cfg.Model = spec.Arch.Name
		params = customParams(cfg, *spec.Arch)
	} else {
		params = Params(cfg)
	}
	config, err := json.Marshal(storedConfig{Config: cfg, Architecture: spec.Arch})
	if err != nil {
		return nil, err
	}
	tags := mergeTags(env, spec.Tags)
	if spec.Section != "" {
		tags["section"] = spec.Section
	}
	name := spec.Name
	if name == "" {
		name = cfg.Model
	}
	experiment := spec.Experiment
	if experiment == "" {
		experiment = DefaultExperiment
	}
	return store.StartRun(tracker.RunSpec{
		Experiment: experiment, Name: name, Source: spec.Source,
		Config: config, Params: params, Tags: tags,
	})
}

// Params flattens a config into the run's params, strings named as the config's JSON fields:
// the settings every model reads and those of its variant (aelib.Variant.Settings), a
// subset only when one was used, plus the optimizer and the loss.
func Params(cfg aelib.Config) map[string]string {
	v, err := aelib.LookupVariant(cfg.Model)
	if err != nil {
		return map[string]string{"model": cfg.Model}
	}
	p := flatParams(cfg, v.Reads)
	p["optimizer"], p["loss"] = "adam", v.Loss(cfg)
	return p
}

// variantSample is how many test images the variant measures use (the Jacobian graph is heavy).
const variantSample = 2000

// Evaluate scores a trained model on the test split of splits; labels are the test classes
// (DigitMSE stays zero without them).
func Evaluate(ae *aelib.Autoencoder, s aelib.Splits, labels []uint8) (Evaluation, error) {
	recon, err := ae.Reconstruct(s.TestInputs, s.NTest)
	if err != nil {
		return Evaluation{}, err
	}
	ev := EvaluateReconstructions(recon, s, labels, ae.Config.Noise > 0)
	if len(labels) < s.NTest {
		return ev, nil
	}
	n := min(s.NTest, variantSample)
	ev.Variant, err = ae.Measure(s.TestInputs[:n*data.Pixels], n)
	return ev, err
}

// EvaluateReconstructions scores reconstructions of the test inputs of s (NTest×data.Pixels values),
// from any model: Evaluate's measures but the variant ones. noisy says the inputs are noisy
// versions of the targets (denoising), which adds the noisy-vs-clean comparison.
func EvaluateReconstructions(recon []float32, s aelib.Splits, labels []uint8, noisy bool) Evaluation {
	var ev Evaluation
	ev.Test = metrics.Evaluate(recon, s.TestTargets, s.NTest, data.Height, data.Width)
	if noisy {
		d := metrics.DenoisingReport(s.TestTargets, s.TestInputs, recon, s.NTest, data.Height, data.Width)
		ev.Denoising = &d
	}
	if len(labels) < s.NTest {
		return ev
	}
	perImage := metrics.PerImageMSE(recon, s.TestTargets, s.NTest)
	var counts [10]int
	for i, l := range labels[:s.NTest] {
		ev.DigitMSE[l] += perImage[i]
		counts[l]++
	}
	for d := range ev.DigitMSE {
		if counts[d] > 0 {
			ev.DigitMSE[d] /= float64(counts[d])
		}
	}
	return ev
}

// finishRun ends a run by the outcome of Run: FINISHED, KILLED when ctx was cancelled (with
// the KillReason ctx was cancelled with, if any), FAILED otherwise. When the store cannot
// record the end (the tracker keeps a disk reserve for it, so even a full disk rarely stops
// it), the error says so: the CLI prints it on stderr beside the run's own error.
func finishRun(ctx context.Context, run *tracker.Run, err error) error {
	status, reason := tracker.StatusFinished, ""
	switch {
	case err == nil:
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		status, reason = tracker.StatusKilled, "interrupted: "+err.Error()
		var kr KillReason
		if errors.As(context.Cause(ctx), &kr) {
			reason = string(kr)
		}
	default:
		status, reason = tracker.StatusFailed, err.Error()
	}
	if ferr := run.Finish(status, reason); ferr != nil {
		return fmt.Errorf("the store could not record run %s as %s, so readers will call it LOST: %w", run.ID()[:8], status, ferr)
	}
	return nil
}
