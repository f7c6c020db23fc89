package aelib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ui/commandline"

	"github.com/aelab/aelab/aelib/data"
)

// EpochMetrics is what one epoch of training measured. The JSON names are the names the
// experiments package logs them under (its metric schema).
type EpochMetrics struct {
	Epoch     int     `json:"epoch"` // 1-based
	Step      int64   `json:"step"`  // global training step at the end of the epoch
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_bce"` // BCE on the test split (Keras' val_loss)
	ValMSE    float64 `json:"val_mse"`
	ValMAE    float64 `json:"val_mae"`
	Seconds   float64 `json:"epoch_seconds"` // wall time of the epoch's training steps and validation
	// TrainSeconds is the wall time of the epoch's training steps alone (the first epoch's
	// includes compilation).
	TrainSeconds float64 `json:"epoch_train_seconds"`
}

// Observer receives training progress. An error it returns stops training with that error;
// ErrStopTraining (or an error wrapping it) ends training after this epoch as a success.
type Observer interface {
	EpochEnd(m EpochMetrics) error
}

// StepObserver is an Observer that also hears of every training step, for progress displays.
// The loops that run a step per call (aelib's step trainer on ONNX Runtime, GoMLX's trainer
// elsewhere) report each step; the XLA device loop, which runs a whole epoch in one call,
// reports epochs only.
type StepObserver interface {
	Observer
	StepEnd(p StepProgress) error
}

// StepProgress is where training stands after a step.
type StepProgress struct {
	Epoch, Epochs int     // the epoch in progress (1-based), of how many
	Step, Steps   int     // steps done in this epoch, of how many
	Loss          float64 // mean training loss of the epoch so far
}

// stepReporter tells a run's step observers where training stands after each step; nil (no
// step observers) does nothing.
type stepReporter struct {
	observers          []StepObserver
	progress           StepProgress
	lossSum, weightSum float64
}

// newStepReporter is the step observers among opts.Observers for a run of epochs of steps each,
// or nil when there are none.
func newStepReporter(opts TrainOptions, epochs, steps int) *stepReporter {
	r := &stepReporter{progress: StepProgress{Epochs: epochs, Steps: steps}}
	for _, o := range opts.Observers {
		if so, ok := o.(StepObserver); ok {
			r.observers = append(r.observers, so)
		}
	}
	if len(r.observers) == 0 {
		return nil
	}
	return r
}

// startEpoch begins counting the steps of epoch.
func (r *stepReporter) startEpoch(epoch int) {
	if r != nil {
		r.progress.Epoch, r.progress.Step, r.lossSum, r.weightSum = epoch, 0, 0, 0
	}
}

// step reports a step whose mean loss over weight real examples was loss.
func (r *stepReporter) step(loss, weight float64) error {
	if r == nil {
		return nil
	}
	r.lossSum += loss * weight
	r.weightSum += weight
	r.progress.Step++
	r.progress.Loss = r.lossSum / max(r.weightSum, 1)
	for _, o := range r.observers {
		if err := o.StepEnd(r.progress); err != nil {
			return fmt.Errorf("observer at step %d of epoch %d: %w", r.progress.Step, r.progress.Epoch, err)
		}
	}
	return nil
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(EpochMetrics) error

// EpochEnd calls f.
func (f ObserverFunc) EpochEnd(m EpochMetrics) error { return f(m) }

// ErrStopTraining, returned by an Observer, ends training after the epoch it observed without
// an error: early stopping.
var ErrStopTraining = errors.New("stop training")

// ErrNonFinite is returned (wrapped) when the training loss becomes NaN or infinite.
var ErrNonFinite = errors.New("loss is not finite")

// History is the outcome of Train.
type History struct {
	Epochs         []EpochMetrics `json:"epochs"`
	StepsPerEpoch  int            `json:"steps_per_epoch"`
	Seconds        float64        `json:"seconds"`         // whole training, compilation included
	CompileSeconds float64        `json:"compile_seconds"` // first step, mostly graph compilation
}

// SecondsPerEpoch is the mean wall time of the epochs after the first (which pays for
// compilation); with a single epoch, that epoch's time less the compilation.
func (h *History) SecondsPerEpoch() float64 {
	switch len(h.Epochs) {
	case 0:
		return 0
	case 1:
		return max(h.Epochs[0].Seconds-h.CompileSeconds, 0)
	}
	var sum float64
	for _, e := range h.Epochs[1:] {
		sum += e.Seconds
	}
	return sum / float64(len(h.Epochs)-1)
}

// TrainOptions are the knobs of Train beyond the Config.
type TrainOptions struct {
	Observers   []Observer
	ProgressBar bool      // GoMLX's progress bar (a terminal line, or a one-line notebook form in GoNB)
	Log         io.Writer // one line per epoch; nil for none
	// HostLoop keeps GoMLX's train.Trainer (one call per step, graph.Gradient) where Train
	// otherwise runs aelib's own loop: each epoch as one call on the device on XLA
	// (devicetrain.go), hand-written gradients on ONNX Runtime (steptrain.go). For comparisons.
	HostLoop bool
	// StepGraph, when set, is where the step trainer (ONNX Runtime) writes the ONNX model of its
	// training step as it compiles it: the graph ONNX Runtime runs, for its own profiler (see
	// docs/performance.md). Other loops ignore it.
	StepGraph string
}

// Splits is the data a model trains and validates on: inputs and targets of both splits. For
// plain reconstruction inputs and targets are the same images; for denoising the inputs are noisy.
type Splits struct {
	TrainInputs, TrainTargets []float32
	TestInputs, TestTargets   []float32
	NTrain, NTest             int
}

// PrepareSplits cuts the data set to the config's subsets and adds the config's noise (seeded,
// once, as the course does) to the inputs.
func PrepareSplits(cfg Config, ds *data.Dataset) Splits {
	tr, te := ds.Train.Subset(cfg.TrainSubset), ds.Test.Subset(cfg.TestSubset)
	s := Splits{TrainInputs: tr.Images, TrainTargets: tr.Images, TestInputs: te.Images, TestTargets: te.Images, NTrain: tr.N, NTest: te.N}
	if cfg.Noise > 0 {
		s.TrainInputs = data.AddNoise(tr.Images, cfg.Noise, cfg.Seed)
		s.TestInputs = data.AddNoise(te.Images, cfg.Noise, cfg.Seed+1)
	}
	return s
}

// Train trains the model for Config.Epochs on the splits, reporting each epoch to the
// observers. It stops with an error when ctx is cancelled, when the loss becomes NaN or
// infinite (ErrNonFinite), or when an observer fails; the epochs done so far are in the history.
func (ae *Autoencoder) Train(ctx context.Context, s Splits, opts TrainOptions) (hist *History, err error) {
	if s.NTrain > 0 && ae.Config.BatchSize > s.NTrain {
		ae.Config.BatchSize = s.NTrain // beyond the data a batch is only padding: memory follows the data, not the setting
	}
	switch {
	case opts.HostLoop:
	case ae.UsesDeviceLoop():
		return ae.trainOnDevice(ctx, s, opts, true) // XLA: a whole epoch per call (devicetrain.go)
	case ae.UsesStepTrainer(): // ONNX Runtime: hand-written gradients (steptrain.go)
		return ae.trainEpochs(ctx, s, opts, ae.Config.BatchSize, func() (epochTrainer, error) {
			st, err := newStepTrainer(ae, s, opts.StepGraph)
			if st != nil {
				st.report = newStepReporter(opts, ae.Config.Epochs, st.steps)
			}
			return st, err
		})
	}
	defer recoverGraphPanic(&err)
	cfg := ae.Config
	if s.NTrain == 0 || s.NTest == 0 {
		return nil, fmt.Errorf("aelib: training needs examples in both splits (train %d, test %d)", s.NTrain, s.NTest)
	}
	trainer := train.NewTrainer(ae.Backend, ae.store,
		func(scope *model.Scope, inputs []*Node) []*Node {
			return ae.trainingOutputs(inputs[0]) // logits, then what a penalty needs (variants.go)
		},
		ae.trainingLoss, // maskedBCE, plus the penalty of the sparse, contractive and vae models
		optimizer.Adam().LearningRate(cfg.LearningRate).Betas(0.9, 0.999).Epsilon(1e-7).Done(),
		nil, nil)
	ds := &batches{inputs: s.TrainInputs, targets: s.TrainTargets, n: s.NTrain, batch: cfg.BatchSize, seed: cfg.Seed}
	hist = &History{StepsPerEpoch: ds.steps()}
	var lossSum, weightSum float64
	report := newStepReporter(opts, cfg.Epochs, ds.steps())
	first := true
	trainStart := time.Now()
	onStep := func(_ *train.Loop, metrics []*tensors.Tensor) error {
		if first {
			hist.CompileSeconds = time.Since(trainStart).Seconds()
			first = false
		}
		loss := float64(tensors.MustCopyFlatData[float32](metrics[0])[0])
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("%w at step %d: %g", ErrNonFinite, trainer.GlobalStep(), loss)
		}
		w := float64(ds.lastValid)
		lossSum += loss * w
		weightSum += w
		if err := report.step(loss, w); err != nil {
			return err
		}
		return ctx.Err()
	}

	eval := newEvaluator(ae, s.TestInputs, s.TestTargets, s.NTest, cfg.BatchSize)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		lossSum, weightSum = 0, 0
		report.startEpoch(epoch)
		ds.epoch = epoch
		// A fresh Loop per epoch: GoMLX's progress bar serves one run of a Loop, and RunSteps
		// tells it the epoch's length, so each epoch gets its own bar, as in Keras.
		loop := train.NewLoop(trainer)
		if opts.ProgressBar {
			commandline.AttachProgressBar(loop)
		}
		loop.OnStep("aelab", 0, onStep)
		_, err := loop.RunSteps(ds, ds.steps())
		trainSeconds := time.Since(start).Seconds()
		if err != nil {
			hist.Seconds = time.Since(trainStart).Seconds()
			if ctxErr := ctx.Err(); ctxErr != nil {
				return hist, fmt.Errorf("aelib: training stopped in epoch %d: %w", epoch, ctxErr)
			}
			return hist, fmt.Errorf("aelib: training epoch %d: %w", epoch, err)
		}
		val, err := eval.run()
		if err != nil {
			return hist, err
		}
		m := EpochMetrics{Epoch: epoch, Step: trainer.GlobalStep(), TrainLoss: lossSum / weightSum,
			ValLoss: val.bce, ValMSE: val.mse, ValMAE: val.mae, Seconds: time.Since(start).Seconds(), TrainSeconds: trainSeconds}
		if stop, err := ae.endEpoch(hist, m, opts); err != nil || stop {
			hist.Seconds = time.Since(trainStart).Seconds()
			return hist, err
		}
	}
	hist.Seconds = time.Since(trainStart).Seconds()
	return hist, nil
}

// maskedBCE is binary cross-entropy from logits, averaged over pixels and over the real
// examples of the batch: labels are [targets [B,784], weights [B]], with weight 0 for the
// padding that fills the last batch of an epoch. Keras averages the partial last batch over its
// real examples only; so does this, with one graph for every batch.
func maskedBCE(labels, logits []*Node) *Node {
	return Div(weightedBCESum(labels[0], labels[1], logits[0]), exampleCount(labels[1]))
}

// weightedBCESum is Σ_b weights_b · mean_pixels BCE(x_b, target_b): maskedBCE before the division
// by the number of real examples. A batch trained in shards (steptrain.go) divides each shard's
// sum by the whole batch's count.
func weightedBCESum(target, weights, x *Node) *Node {
	perPixel := Add(Sub(Max(x, ZerosLike(x)), Mul(x, target)), Log1P(Exp(Neg(Abs(x)))))
	return ReduceAllSum(Mul(ReduceMean(perPixel, 1), weights))
}

// exampleCount is maskedBCE's denominator: the real examples of a batch (Σ weights), at least 1.
func exampleCount(weights *Node) *Node {
	sum := ReduceAllSum(weights)
	return Max(sum, OnesLike(sum))
}

// batches is the training data as a train.Dataset: each Iter is one epoch in a fresh seeded
// order, batches assembled on the host (ONNX Runtime gathers slowly), the last one padded.
type batches struct {
	inputs, targets []float32
	n, batch        int
	seed            uint64
	epoch           int
	lastValid       int // real examples in the batch last yielded
}

func (b *batches) Name() string { return "train" }

func (b *batches) steps() int { return (b.n + b.batch - 1) / b.batch }

func (b *batches) Iter() iter.Seq2[train.Batch, error] {
	return func(yield func(train.Batch, error) bool) {
		perm := data.Permutation(b.n, b.seed, b.epoch)
		for start := 0; start < b.n; start += b.batch {
			idx := perm[start:min(start+b.batch, b.n)]
			in, target, weights := make([]float32, b.batch*data.Pixels), make([]float32, b.batch*data.Pixels), make([]float32, b.batch)
			for row, i := range idx {
				copy(in[row*data.Pixels:(row+1)*data.Pixels], b.inputs[i*data.Pixels:(i+1)*data.Pixels])
				copy(target[row*data.Pixels:(row+1)*data.Pixels], b.targets[i*data.Pixels:(i+1)*data.Pixels])
				weights[row] = 1
			}
			b.lastValid = len(idx)
			batch := train.Batch{
				Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, b.batch, data.Pixels)},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(target, b.batch, data.Pixels), tensors.FromFlatDataAndDimensions(weights, b.batch)},
			}
			if !yield(batch, nil) {
				return
			}
		}
	}
}

// evaluator computes validation BCE, MSE and MAE on the backend, batch by batch. It builds the
// padded batches once per training run: a device backend (XLA) keeps its copy of each tensor
// after the first epoch, so later epochs send nothing to the device.
type evaluator struct {
	ae      *Autoencoder
	exec    *model.Exec
	batches [][]*tensors.Tensor // inputs [batch,784], targets [batch,784], weights [batch]: 1 real, 0 padding
	n       int
}

type valMetrics struct{ bce, mse, mae float64 }

func newEvaluator(ae *Autoencoder, inputs, targets []float32, n, batch int) *evaluator {
	e := &evaluator{ae: ae, n: n}
	batch = max(min(batch, n), 1) // padding beyond the split would only cost memory
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		in, target, w := make([]float32, batch*data.Pixels), make([]float32, batch*data.Pixels), make([]float32, batch)
		copy(in, inputs[start*data.Pixels:end*data.Pixels])
		copy(target, targets[start*data.Pixels:end*data.Pixels])
		for i := range end - start {
			w[i] = 1
		}
		e.batches = append(e.batches, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, batch, data.Pixels),
			tensors.FromFlatDataAndDimensions(target, batch, data.Pixels), tensors.FromFlatDataAndDimensions(w, batch)})
	}
	return e
}

func (e *evaluator) run() (v valMetrics, err error) {
	defer recoverGraphPanic(&err)
	if e.exec == nil {
		e.exec, err = model.NewExec(e.ae.Backend, e.ae.store, func(scope *model.Scope, x, target, w *Node) (*Node, *Node, *Node) {
			logits := e.ae.Arch.Logits(e.ae.scope(), x)
			bce := Add(Sub(Max(logits, ZerosLike(logits)), Mul(logits, target)), Log1P(Exp(Neg(Abs(logits)))))
			diff := Sub(Sigmoid(logits), target)
			w = ExpandAxes(w, -1)
			return ReduceAllSum(Mul(bce, w)), ReduceAllSum(Mul(Square(diff), w)), ReduceAllSum(Mul(Abs(diff), w))
		})
		if err != nil {
			return v, err
		}
	}
	var sums [3]float64
	for _, b := range e.batches {
		out, err := e.exec.Call(b[0], b[1], b[2])
		if err != nil {
			return v, fmt.Errorf("aelib: validation: %w", err)
		}
		for i := range sums {
			sums[i] += float64(tensors.MustCopyFlatData[float32](out[i])[0])
			out[i].FinalizeAll()
		}
	}
	count := float64(e.n * data.Pixels)
	return valMetrics{bce: sums[0] / count, mse: sums[1] / count, mae: sums[2] / count}, nil
}
