package aelib

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// This file is Train: one epoch loop over one of two step engines, chosen in one place
// (engineFor) from what the backend can do:
//
//   - the host-driven step (steptrain.go): one call per batch, batches built on the host. ONNX
//     Runtime and the pure-Go backend, where a call costs little next to its arithmetic.
//   - the device loop (devicetrain.go): a whole epoch in one call, a graph.While over batches
//     gathered on the device. XLA, where per-call overhead dominates a step.
//
// Both run the same training computation (Architecture.lossAndGradients: the forward pass, the
// BCE, the penalties, the gradients) and the same Adam (adamStep), with the training state in the
// store variables GoMLX's optimizer.Adam uses.

// engine is a step engine: it compiles the training computation once, then trains epochs.
type engine interface {
	compile() error
	// epoch trains one epoch and returns each batch's loss; it stops between calls when ctx is done.
	epoch(ctx context.Context, epoch int) ([]float32, error)
	state() *trainState
}

// engineChoice is the engine Train runs and how it takes gradients.
type engineChoice struct {
	device bool // the device loop; otherwise the host-driven step
	// hand: layers with a hand-written gradient use it (layerRules); the others, and the
	// penalties, use graph.Gradient's. Otherwise graph.Gradient differentiates the whole loss.
	hand bool
}

// engineFor chooses the engine of a training run: the device loop where the backend runs a
// graph.While with gradients fast (XLA), otherwise the host-driven step, with hand-written
// gradients where the backend runs graph.Gradient's output slowly (ONNX Runtime).
// opts.HostLoop asks for the host-driven step with graph.Gradient alone, the reference.
func (ae *Autoencoder) engineFor(opts TrainOptions) engineChoice {
	return chooseEngine(opsFor(ae.Backend.Name()), opts)
}

func chooseEngine(ops graphOps, opts TrainOptions) engineChoice {
	switch {
	case opts.HostLoop:
		return engineChoice{}
	case ops.deviceLoop:
		return engineChoice{device: true}
	}
	return engineChoice{hand: ops.handGradients}
}

// UsesDeviceLoop reports whether Train runs whole epochs on the device (XLA) rather than one
// call per step.
func (ae *Autoencoder) UsesDeviceLoop() bool { return ae.engineFor(TrainOptions{}).device }

// Loop names the engine Train runs with opts: "device" (a whole epoch per call, XLA), "step"
// (a call per batch, with the hand-written gradients of the layers that have one) or "host" (a
// call per batch, graph.Gradient alone).
func (ae *Autoencoder) Loop(opts TrainOptions) string {
	switch c := ae.engineFor(opts); {
	case c.device:
		return "device"
	case c.hand:
		return "step"
	}
	return "host"
}

// Train trains the model for Config.Epochs on the splits, reporting each epoch to the
// observers. It stops with an error when ctx is cancelled, when the loss becomes NaN or
// infinite (ErrNonFinite), or when an observer fails; the epochs done so far are in the history.
func (ae *Autoencoder) Train(ctx context.Context, s Splits, opts TrainOptions) (hist *History, err error) {
	if s.NTrain > 0 && ae.Config.BatchSize > s.NTrain {
		ae.Config.BatchSize = s.NTrain // beyond the data a batch is only padding: memory follows the data, not the setting
	}
	choice := ae.engineFor(opts)
	valBatch := ae.Config.BatchSize
	if choice.device {
		// Validation is a forward pass only: on XLA it runs in a few large batches, since each
		// call costs more than the arithmetic of a training-sized batch.
		valBatch = max(valBatch, min(deviceValidationBatch, s.NTest))
	}
	return ae.trainEpochs(ctx, s, opts, valBatch, func() (engine, error) {
		if choice.device {
			return newDeviceEngine(ae, s, choice.hand)
		}
		se, err := newStepEngine(ae, s, opts.StepGraph, choice.hand)
		if se != nil {
			se.report = newStepReporter(opts, ae.Config.Epochs, se.steps)
		}
		return se, err
	})
}

// trainEpochs is the epoch loop: it makes the engine (newEngine), compiles it, then runs each
// epoch's steps, validation (in batches of valBatch) and the observers.
func (ae *Autoencoder) trainEpochs(ctx context.Context, s Splits, opts TrainOptions, valBatch int, newEngine func() (engine, error)) (hist *History, err error) {
	defer recoverGraphPanic(&err)
	cfg := ae.Config
	if s.NTrain == 0 || s.NTest == 0 {
		return nil, fmt.Errorf("aelib: training needs examples in both splits (train %d, test %d)", s.NTrain, s.NTest)
	}
	if err := ae.Arch.checkPenalties(); err != nil {
		return nil, fmt.Errorf("aelib: %w", err)
	}
	defer limitHeapGrowth()()
	defer shrinkArena(ae.Backend) // after the engine's and validation's graphs are freed
	trainStart := time.Now()
	eng, err := newEngine()
	if err != nil {
		return nil, err
	}
	defer releaseEngine(eng)
	if err := eng.compile(); err != nil {
		return nil, fmt.Errorf("aelib: compiling the training step: %w", err)
	}
	ts := eng.state()
	hist = &History{StepsPerEpoch: ts.steps, CompileSeconds: time.Since(trainStart).Seconds()}
	eval := newEvaluator(ae, s.TestInputs, s.TestTargets, s.NTest, valBatch)
	defer eval.close()
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		if epoch == 1 {
			start = trainStart // the first epoch pays for compilation
		}
		if err := ctx.Err(); err != nil {
			hist.Seconds = time.Since(trainStart).Seconds()
			return hist, fmt.Errorf("aelib: training stopped in epoch %d: %w", epoch, err)
		}
		losses, err := eng.epoch(ctx, epoch)
		if err != nil {
			hist.Seconds = time.Since(trainStart).Seconds()
			if ctxErr := ctx.Err(); ctxErr != nil {
				return hist, fmt.Errorf("aelib: training stopped in epoch %d: %w", epoch, ctxErr)
			}
			return hist, fmt.Errorf("aelib: training epoch %d: %w", epoch, err)
		}
		trainSeconds := time.Since(start).Seconds()
		var lossSum float64
		for i, l := range losses {
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
				hist.Seconds = time.Since(trainStart).Seconds()
				return hist, fmt.Errorf("aelib: training epoch %d: %w at step %d: %g", epoch, ErrNonFinite,
					ts.globalStep-int64(ts.steps)+int64(i)+1, l)
			}
			valid := min(ts.batch, ts.n-i*ts.batch)
			lossSum += float64(l) * float64(valid)
		}
		val, err := eval.run()
		if err != nil {
			return hist, err
		}
		m := EpochMetrics{Epoch: epoch, Step: ts.globalStep, TrainLoss: lossSum / float64(ts.n),
			ValLoss: val.bce, ValMSE: val.mse, ValMAE: val.mae, Seconds: time.Since(start).Seconds(),
			TrainSeconds: trainSeconds}
		if stop, err := ae.endEpoch(hist, m, opts); err != nil || stop {
			hist.Seconds = time.Since(trainStart).Seconds()
			return hist, err
		}
	}
	hist.Seconds = time.Since(trainStart).Seconds()
	return hist, nil
}

// endEpoch records an epoch, logs it and tells the observers; stop is true when one of them
// returned ErrStopTraining.
func (ae *Autoencoder) endEpoch(hist *History, m EpochMetrics, opts TrainOptions) (stop bool, err error) {
	hist.Epochs = append(hist.Epochs, m)
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "epoch %d/%d  %d steps  %.2fs (train %.3fs)  loss %.4f  val_bce %.4f  val_mse %.5f  val_mae %.4f\n",
			m.Epoch, ae.Config.Epochs, hist.StepsPerEpoch, m.Seconds, m.TrainSeconds, m.TrainLoss, m.ValLoss, m.ValMSE, m.ValMAE)
	}
	for _, o := range opts.Observers {
		if err := o.EpochEnd(m); errors.Is(err, ErrStopTraining) {
			stop = true // the other observers still see the epoch
		} else if err != nil {
			return false, fmt.Errorf("aelib: observer at epoch %d: %w", m.Epoch, err)
		}
	}
	if math.IsNaN(m.ValLoss) || math.IsInf(m.ValLoss, 0) {
		return false, fmt.Errorf("%w: validation loss %g at epoch %d", ErrNonFinite, m.ValLoss, m.Epoch)
	}
	return stop, nil
}

// trainState is what the training computation carries from call to call: the weights, Adam's
// moments and step, the random state, and where the store keeps them. Both engines share it.
type trainState struct {
	ae              *Autoencoder
	n, batch, steps int // training examples, batch size, batches per epoch

	// The training state, in the store variables GoMLX's optimizer.Adam and model.Store use, so
	// that a checkpoint holds the optimizer state and GoMLX's own trainer continues a run.
	vars           []*model.Variable // the trainable weights, sorted by path
	paths          []string
	m1Vars, m2Vars []*model.Variable // Adam's moments of each weight
	adamStepVar    *model.Variable   // Adam's step count (float32)
	globalStepVar  *model.Variable   // the store's global step (int64)
	rngVar         *model.Variable   // the store's random state

	weights    []*tensors.Tensor
	m1, m2     []*tensors.Tensor
	adamT      *tensors.Tensor
	lr         *tensors.Tensor
	rng        *tensors.Tensor
	globalStep int64
}

func (ts *trainState) state() *trainState { return ts }

// newTrainState reads the training state from the store: the weights (initialized if new),
// Adam's moments and step (zero unless this store has trained before), the global step and the
// random state.
func newTrainState(ae *Autoencoder, n int) (*trainState, error) {
	if err := ae.Initialize(); err != nil {
		return nil, err
	}
	ts := &trainState{ae: ae, n: n, batch: ae.Config.BatchSize}
	ts.steps = (ts.n + ts.batch - 1) / ts.batch
	for v := range ae.store.RootScope().At(modelScope).IterVariables() {
		if v.Trainable {
			ts.vars = append(ts.vars, v)
		}
	}
	slices.SortFunc(ts.vars, func(a, b *model.Variable) int { return strings.Compare(a.Path(), b.Path()) })
	value := func(v *model.Variable) (*tensors.Tensor, error) {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("aelib: reading %s: %w", v.Path(), err)
		}
		return t, nil
	}
	for _, v := range ts.vars {
		m1, m2 := adamMoments(ae.store, v)
		ts.paths = append(ts.paths, v.Path())
		ts.m1Vars, ts.m2Vars = append(ts.m1Vars, m1), append(ts.m2Vars, m2)
	}
	ts.adamStepVar = ae.store.RootScope().At(optimizer.AdamDefaultScope).WithInitializer(initializer.Zero).
		VariableWithShape("step", shapes.Make(dtypes.Float32)).SetTrainable(false)
	ts.globalStepVar = optimizer.GetGlobalStepVar(ae.store)
	// Moments and step are new (zero) unless this store has trained before.
	if err := ae.store.InitializeVariables(ae.Backend, nil); err != nil {
		return nil, fmt.Errorf("aelib: initializing Adam's state: %w", err)
	}
	if ts.rngVar = ae.store.GetVariable(model.JoinPath("/", model.RNGStateVariableName)); ts.rngVar == nil || !ts.rngVar.HasValue() {
		if err := ae.store.ResetRNGState(); err != nil { // seeded by the store's initializer seed (Config.Seed)
			return nil, fmt.Errorf("aelib: initializing the random state: %w", err)
		}
		ts.rngVar = ae.store.GetVariable(model.JoinPath("/", model.RNGStateVariableName))
	}
	for i, v := range ts.vars {
		w, errW := value(v)
		m1, errM1 := value(ts.m1Vars[i])
		m2, errM2 := value(ts.m2Vars[i])
		if err := errors.Join(errW, errM1, errM2); err != nil {
			return nil, err
		}
		ts.weights, ts.m1, ts.m2 = append(ts.weights, w), append(ts.m1, m1), append(ts.m2, m2)
	}
	var err error
	if ts.adamT, err = value(ts.adamStepVar); err != nil {
		return nil, err
	}
	if ts.rng, err = value(ts.rngVar); err != nil {
		return nil, err
	}
	globalStep, err := value(ts.globalStepVar)
	if err != nil {
		return nil, err
	}
	ts.globalStep = tensors.ToScalar[int64](globalStep)
	ts.lr = tensors.FromScalar(float32(ae.Config.LearningRate))
	return ts, nil
}

// writeBack puts the training state into the store's variables: the weights for inference,
// evaluation and checkpoints, Adam's moments and step, the global step and the random state
// for whoever trains next. The old values are preserved because the engine may still hold them
// as inputs.
func (ts *trainState) writeBack() error {
	set := func(v *model.Variable, t *tensors.Tensor) error {
		if err := v.SetValuePreservingOld(t); err != nil {
			return fmt.Errorf("aelib: storing %s: %w", v.Path(), err)
		}
		return nil
	}
	var errs []error
	for i, v := range ts.vars {
		errs = append(errs, set(v, ts.weights[i]), set(ts.m1Vars[i], ts.m1[i]), set(ts.m2Vars[i], ts.m2[i]))
	}
	errs = append(errs, set(ts.adamStepVar, ts.adamT), set(ts.globalStepVar, tensors.FromScalar(ts.globalStep)),
		set(ts.rngVar, ts.rng))
	return errors.Join(errs...)
}

// releaseEngine frees what a finished engine holds outside Go's heap: its compiled graphs
// (ONNX Runtime sessions, XLA executables) and the buffers of the tensors only it holds. Nothing
// else frees them: neither GoMLX nor its backends set finalizers.
func releaseEngine(eng engine) {
	switch e := eng.(type) {
	case *stepEngine:
		for _, sh := range e.shards {
			sh.exec.Finalize()
			sh.x.FinalizeAll()
			if sh.target != sh.x {
				sh.target.FinalizeAll()
			}
			sh.mask.FinalizeAll()
		}
		if e.update != nil {
			e.update.Finalize()
		}
		for t := range e.owned { // the store holds copies of the vectors' parts, not these
			t.FinalizeAll()
		}
		clear(e.owned)
		e.count.FinalizeAll()
	case *deviceEngine:
		e.exec.Finalize()
		e.inputs.FinalizeAll()
		if e.targets != e.inputs {
			e.targets.FinalizeAll()
		}
	}
}
