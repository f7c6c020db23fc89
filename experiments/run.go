package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

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
	CheckpointDir string            // where the weights go; checkpoints/<run id> beside the store when empty
}

// Options are the knobs of Run that do not change the result.
type Options struct {
	ProgressBar bool          // GoMLX's progress bar
	Log         io.Writer     // one line per epoch and the final evaluation; nil for none
	Data        *data.Dataset // the data set already loaded; nil loads Config.Dataset
}

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
	Variant   map[string]float64 // the sparse, contractive or vae model's own measures (variantMetrics); nil for the others
}

// Run trains spec.Config, logging everything to the store (nil trains without tracking):
// config, parameters, environment, every epoch's metrics, the final evaluation, and the
// checkpoint as an artifact. An error, a panic or a NaN loss ends the run FAILED with its
// reason, a cancelled ctx (SIGINT, SIGTERM) ends it KILLED; metrics logged before stay.
func Run(ctx context.Context, store *tracker.Store, spec Spec, opts Options) (res *Result, err error) {
	cfg := spec.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ds := opts.Data
	if ds == nil || ds.Name != cfg.Dataset {
		if ds, err = data.Load(cfg.Dataset); err != nil {
			return nil, err
		}
	}
	ae, err := aelib.New(cfg)
	if err != nil {
		return nil, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "%s: backend %s\n", cfg.Model, ae.Choice)
	}
	res = &Result{Model: ae}

	var run *tracker.Run
	if store != nil {
		if run, err = startRun(store, spec, ae); err != nil {
			return nil, err
		}
		res.RunID = run.ID()
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
			err = errors.Join(err, finishRun(ctx, run, err))
		}()
	}

	var observers []aelib.Observer
	if run != nil {
		observers = append(observers, aelib.ObserverFunc(func(m aelib.EpochMetrics) error { return logEpoch(run, m) }))
	}
	splits := aelib.PrepareSplits(cfg, ds)
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
		res.CheckpointDir = filepath.Join(filepath.Dir(store.Path()), "checkpoints", res.RunID)
	}
	if res.CheckpointDir != "" {
		if err := ae.Save(res.CheckpointDir); err != nil {
			return res, err
		}
	}
	if run != nil {
		if err := logResults(run, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// logEpoch records one epoch's metrics.
func logEpoch(run *tracker.Run, m aelib.EpochMetrics) error {
	return run.LogMetrics(map[string]float64{
		"train_loss": m.TrainLoss, "val_bce": m.ValLoss, "val_mse": m.ValMSE, "val_mae": m.ValMAE,
		"epoch_seconds": m.Seconds,
	}, m.Step, m.Epoch)
}

// startRun records the run with its config, flattened params and tags.
func startRun(store *tracker.Store, spec Spec, ae *aelib.Autoencoder) (*tracker.Run, error) {
	return startRunWith(store, spec, Environment(ae.Backend, ae.Choice))
}

// startRunWith records the run with its config, flattened params and tags: env, then the
// spec's own.
func startRunWith(store *tracker.Store, spec Spec, tags map[string]string) (*tracker.Run, error) {
	cfg := spec.Config
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	for k, v := range spec.Tags {
		tags[k] = v
	}
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
		Config: config, Params: Params(cfg), Tags: tags,
	})
}

// Params flattens a config into the run's params: strings, one per setting.
func Params(cfg aelib.Config) map[string]string {
	p := map[string]string{
		"model":         cfg.Model,
		"dataset":       cfg.Dataset,
		"epochs":        strconv.Itoa(cfg.Epochs),
		"batch_size":    strconv.Itoa(cfg.BatchSize),
		"learning_rate": strconv.FormatFloat(cfg.LearningRate, 'g', -1, 64),
		"noise":         strconv.FormatFloat(cfg.Noise, 'g', -1, 64),
		"seed":          strconv.FormatUint(cfg.Seed, 10),
		"optimizer":     "adam",
		"loss":          "bce",
	}
	if len(cfg.Widths) > 0 {
		w := make([]string, len(cfg.Widths))
		for i, v := range cfg.Widths {
			w[i] = strconv.Itoa(v)
		}
		p["widths"] = strings.Join(w, ",")
	}
	if cfg.Filters > 0 {
		p["filters"] = strconv.Itoa(cfg.Filters)
	}
	if cfg.TrainSubset > 0 {
		p["train_subset"] = strconv.Itoa(cfg.TrainSubset)
	}
	if cfg.TestSubset > 0 {
		p["test_subset"] = strconv.Itoa(cfg.TestSubset)
	}
	if cfg.Backend != "" {
		p["backend"] = cfg.Backend
	}
	switch cfg.Model {
	case aelib.ModelSparse:
		p["loss"], p["penalty"] = "bce+"+cfg.Penalty, cfg.Penalty
		p["lambda"] = strconv.FormatFloat(cfg.Lambda, 'g', -1, 64)
		if cfg.Penalty == aelib.PenaltyKL {
			p["rho"] = strconv.FormatFloat(cfg.Rho, 'g', -1, 64)
		}
	case aelib.ModelContractive:
		p["loss"], p["lambda"] = "bce+jacobian", strconv.FormatFloat(cfg.Lambda, 'g', -1, 64)
	case aelib.ModelVAE:
		p["loss"], p["beta"] = "bce+kl", strconv.FormatFloat(cfg.Beta, 'g', -1, 64)
		p["latent_dim"] = strconv.Itoa(cfg.LatentDim)
	}
	return p
}

// variantSample is how many test images the variant measures use (the Jacobian graph is heavy).
const variantSample = 2000

// variantMetrics measures what the models beyond the course are for, on the first test images:
// sparse: mean_activation, near_zero_share, dead_units; contractive: jacobian_norm_sq (‖J‖²_F,
// the penalty before λ) and code_sensitivity (‖E(x+ε)−E(x)‖/‖ε‖, ε ~ N(0, 0.05²));
// vae: latent_kl (nats per example). Nil for the course's models.
func variantMetrics(ae *aelib.Autoencoder, s aelib.Splits) (map[string]float64, error) {
	n := min(s.NTest, variantSample)
	images := s.TestInputs[:n*784]
	switch ae.Config.Model {
	case aelib.ModelSparse:
		st, err := ae.CodeStats(images, n)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"mean_activation": st.MeanActivation, "near_zero_share": st.NearZeroShare, "dead_units": float64(st.DeadUnits)}, nil
	case aelib.ModelContractive:
		j, err := ae.JacobianNormSq(images, n)
		if err != nil {
			return nil, err
		}
		sens, err := ae.CodeSensitivity(images, n, 0.05, ae.Config.Seed)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"jacobian_norm_sq": j, "code_sensitivity": sens}, nil
	case aelib.ModelVAE:
		kl, err := ae.LatentKL(images, n)
		if err != nil {
			return nil, err
		}
		return map[string]float64{"latent_kl": kl}, nil
	}
	return nil, nil
}

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
	ev.Variant, err = variantMetrics(ae, s)
	return ev, err
}

// EvaluateReconstructions scores reconstructions of the test inputs of s (NTest×784 values),
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

// logResults records the final evaluation, sizes, timings and the checkpoint.
func logResults(run *tracker.Run, res *Result) error {
	return logFinal(run, res.Model.Arch, res.History, res.Evaluation, res.CheckpointDir)
}

// logFinal records the final evaluation, the sizes of arch, the timings of h and the
// checkpoint folder ("" for none).
func logFinal(run *tracker.Run, arch aelib.Architecture, h *aelib.History, ev Evaluation, checkpointDir string) error {
	total, enc, dec := arch.Params()
	final := map[string]float64{
		"test_bce": ev.Test.BCE, "test_mse": ev.Test.MSE, "test_mae": ev.Test.MAE, "test_psnr": ev.Test.PSNR,
		"test_ssim": ev.Test.SSIM, "test_pearson": ev.Test.Pearson, "test_similarity": ev.Test.Similarity,
		"params": float64(total), "encoder_params": float64(enc), "decoder_params": float64(dec),
		"model_bytes_f32": float64(4 * total), "model_bytes_f16": float64(2 * total),
		"train_seconds": h.Seconds, "seconds_per_epoch": h.SecondsPerEpoch(), "compile_seconds": h.CompileSeconds,
		"steps_per_epoch": float64(h.StepsPerEpoch),
	}
	if n := len(h.Epochs); n > 0 {
		final["steps_per_second"] = float64(h.StepsPerEpoch) / max(h.SecondsPerEpoch(), 1e-9)
		final["final_train_loss"] = h.Epochs[n-1].TrainLoss
	}
	if d := ev.Denoising; d != nil {
		for k, v := range map[string]float64{
			"noisy_mse": d.NoisyMSE, "denoised_mse": d.DenoisedMSE, "improvement_pct": d.ImprovementPct,
			"noisy_psnr": d.NoisyPSNR, "denoised_psnr": d.DenoisedPSNR, "noisy_ssim": d.NoisySSIM, "denoised_ssim": d.DenoisedSSIM,
		} {
			final[k] = v
		}
	}
	for k, v := range ev.Variant {
		final[k] = v
	}
	for digit, v := range ev.DigitMSE {
		final[fmt.Sprintf("digit_mse_%d", digit)] = v
	}
	var step int64
	epochs := len(h.Epochs)
	if epochs > 0 {
		step = h.Epochs[epochs-1].Step
	}
	if err := run.LogMetrics(final, step, epochs); err != nil {
		return err
	}
	if checkpointDir != "" {
		if err := run.LogArtifact("checkpoint", checkpointDir, "weights and config (aelib.Load)"); err != nil {
			return err
		}
	}
	return nil
}

// finishRun ends a run by the outcome of Run: FINISHED, KILLED when ctx was cancelled,
// FAILED otherwise. When the store cannot record the end (the tracker keeps a disk
// reserve for it, so even a full disk rarely stops it), the error says so: the CLI
// prints it on stderr beside the run's own error.
func finishRun(ctx context.Context, run *tracker.Run, err error) error {
	status, reason := tracker.StatusFinished, ""
	switch {
	case err == nil:
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		status, reason = tracker.StatusKilled, "interrupted: "+err.Error()
	default:
		status, reason = tracker.StatusFailed, err.Error()
	}
	if ferr := run.Finish(status, reason); ferr != nil {
		return fmt.Errorf("the store could not record run %s as %s, so readers will call it LOST: %w", run.ID()[:8], status, ferr)
	}
	return nil
}
