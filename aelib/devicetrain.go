package aelib

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/aelab/aelab/aelib/data"
)

// This file trains on the device: the training split stays on the accelerator, every batch is
// gathered there by the epoch's permutation, and on XLA the whole epoch is one executable call
// (a graph.While whose body is the forward pass, graph.Gradient and a hand-written Adam update
// on plain tensors carried in the loop state). On CPU backends the same step graph runs once
// per batch ("step mode"): per-call overhead does not matter there, and GoMLX's pure-Go backend
// cannot run While bodies that hold gradients.
//
// Constraints of go-xla that shape the code (see shared/TOOLCHAIN.md): the loop body captures
// nothing from the enclosing function (data, permutation, weights and optimizer state all travel
// in the loop state), and the main function creates no scalar constant (GoMLX caches scalars
// graph-wide, and a cached main-function scalar reused in the body mixes functions): every
// scalar the main function needs comes in as an input.

// plainWeightsKey marks a graph whose layers take their weights from plain nodes.
type plainWeightsKey struct{}

// layerWeight returns a layer's parameter: the model variable scope/name, or, while the device
// loop builds its step (withPlainWeights), the plain node of that variable's path.
func layerWeight(s *model.Scope, g *Graph, name string, shape shapes.Shape) *Node {
	if plain, ok := g.State(plainWeightsKey{}).(map[string]*Node); ok {
		path := weightPath(s, name)
		n, found := plain[path]
		if !found {
			exceptions.Panicf("aelib: the device loop carries no weight %q", path)
		}
		if !n.Shape().Equal(shape) {
			exceptions.Panicf("aelib: device loop weight %q is %s, the layer wants %s", path, n.Shape(), shape)
		}
		return n
	}
	return s.VariableWithShape(name, shape).NodeValue(g)
}

// withPlainWeights runs build with the layers reading their weights from weights (variable
// path → node) instead of the model's variables.
func withPlainWeights(g *Graph, weights map[string]*Node, build func()) {
	g.AttachState(plainWeightsKey{}, weights)
	defer g.AttachState(plainWeightsKey{}, nil)
	build()
}

// UsesDeviceLoop reports whether Train runs whole epochs on the device (XLA backends, models
// with the plain reconstruction loss) rather than GoMLX's train.Trainer, one step per call.
func (ae *Autoencoder) UsesDeviceLoop() bool {
	return ae.Backend.Name() == "xla" && ae.Config.variant().DeviceLoop // the plain masked BCE the device step computes
}

// Loop-state layout, shared by the While body and the step-mode graph.
const (
	stStep    = iota // int32 scalar: index of the next batch
	stSteps          // int32 scalar: batches per epoch
	stN              // int32 scalar: training examples (rows of the permutation beyond it are padding)
	stInputs         // [N,784] float32
	stTargets        // [N,784] float32
	stPerm           // [steps*batch] int32, padded with 0
	stAdamT          // float32 scalar: Adam's step count
	stLR             // float32 scalar: learning rate
	stLosses         // [steps] float32: each batch's loss
	stWeights        // then the weights, Adam's first moments and second moments, P of each
)

// trainState is what a hand-built training step carries from call to call: the weights, Adam's
// moments and step, and where the store keeps them. The device loop (this file) and the step
// trainer (steptrain.go) share it.
type trainState struct {
	ae              *Autoencoder
	n, batch, steps int // training examples, batch size, batches per epoch

	// The training state, in the store variables GoMLX's train.Trainer and optimizer.Adam use,
	// so that a checkpoint holds the optimizer state and either loop continues the other's run.
	vars           []*model.Variable // the trainable weights, sorted by path
	paths          []string
	m1Vars, m2Vars []*model.Variable // Adam's moments of each weight
	adamStepVar    *model.Variable   // Adam's step count (float32)
	globalStepVar  *model.Variable   // the store's global step (int64)

	weights    []*tensors.Tensor
	m1, m2     []*tensors.Tensor
	adamT      *tensors.Tensor
	lr         *tensors.Tensor
	globalStep int64
}

// deviceTrainer holds the compiled epoch (or step) and the training state on the device.
type deviceTrainer struct {
	*trainState
	loop    bool // one While per epoch; false: one call per batch
	exec    *Exec
	inputs  *tensors.Tensor
	targets *tensors.Tensor
}

// newTrainState reads the training state from the store: the weights (initialized if new),
// Adam's moments and step (zero unless this store has trained before), the global step.
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
	globalStep, err := value(ts.globalStepVar)
	if err != nil {
		return nil, err
	}
	ts.globalStep = tensors.ToScalar[int64](globalStep)
	ts.lr = tensors.FromScalar(float32(ae.Config.LearningRate))
	return ts, nil
}

// stateArgs are the weights, then Adam's first and second moments: the tail of the step's inputs.
func (ts *trainState) stateArgs() []any {
	args := make([]any, 0, 3*len(ts.weights))
	for _, group := range [][]*tensors.Tensor{ts.weights, ts.m1, ts.m2} {
		for _, t := range group {
			args = append(args, t)
		}
	}
	return args
}

func newDeviceTrainer(ae *Autoencoder, s Splits, loop bool) (*deviceTrainer, error) {
	ts, err := newTrainState(ae, s.NTrain)
	if err != nil {
		return nil, err
	}
	dt := &deviceTrainer{trainState: ts, loop: loop}
	dt.inputs = tensors.FromFlatDataAndDimensions(s.TrainInputs, s.NTrain, data.Pixels)
	dt.targets = dt.inputs
	if &s.TrainTargets[0] != &s.TrainInputs[0] {
		dt.targets = tensors.FromFlatDataAndDimensions(s.TrainTargets, s.NTrain, data.Pixels)
	}
	dt.exec, err = NewExec(ae.Backend, dt.graph)
	if err != nil {
		return nil, err
	}
	dt.exec.WithName("aelab_device_epoch_" + ae.Arch.Name)
	return dt, nil
}

// stateShapes are the shapes of the exec's inputs (the loop state).
func (dt *deviceTrainer) stateShapes() []shapes.Shape {
	i32, f32 := shapes.Make(dtypes.Int32), shapes.Make(dtypes.Float32)
	out := []shapes.Shape{i32, i32, i32, dt.inputs.Shape(), dt.targets.Shape(),
		shapes.Make(dtypes.Int32, dt.steps*dt.batch), f32, f32, shapes.Make(dtypes.Float32, dt.steps)}
	for range 3 {
		for _, w := range dt.weights {
			out = append(out, w.Shape())
		}
	}
	return out
}

// graph is the exec's graph: inputs the loop state; outputs Adam's step, the losses, the
// weights and the moments after the epoch (loop) or after one step.
func (dt *deviceTrainer) graph(state []*Node) []*Node {
	g := state[0].Graph()
	var final []*Node
	if dt.loop {
		shp := make([]shapes.Shape, len(state))
		for i, s := range state {
			shp[i] = s.Shape()
		}
		params := func(g *Graph) []*Node {
			ps := make([]*Node, len(shp))
			for i, s := range shp {
				ps[i] = Parameter(g, fmt.Sprintf("state_%d", i), s)
			}
			return ps
		}
		cond := NewClosure(g, func(g *Graph) []*Node {
			ps := params(g)
			return []*Node{LessThan(ps[stStep], ps[stSteps])}
		})
		body := NewClosure(g, func(g *Graph) []*Node { return dt.step(params(g)) })
		final = While(cond, body, state...)
	} else {
		final = dt.step(state)
	}
	return append([]*Node{final[stAdamT]}, final[stLosses:]...)
}

// deviceValidationBatch is the validation batch of the device loop: MNIST's 10,000 test images
// in five calls; the conv model's largest activation is then ≈ 200 MB.
const deviceValidationBatch = 2000

// Adam's constants: Keras' defaults, as train.go's optimizer.Adam() is configured.
const adamBeta1, adamBeta2, adamEpsilon = 0.9, 0.999, 1e-7

// step is one training step on the loop state: gather the batch by the permutation, mask the
// padding rows (position ≥ N), forward, gradient, Adam. It returns the next state. Its Adam
// update is GoMLX's optimizer.Adam, op for op, so both paths follow the same trajectory.
func (dt *deviceTrainer) step(st []*Node) []*Node {
	g := st[0].Graph()
	P := len(dt.weights)
	step, inputs, targets, perm := st[stStep], st[stInputs], st[stTargets], st[stPerm]
	start := Mul(step, Scalar(g, dtypes.Int32, dt.batch))
	position := Add(Iota(g, shapes.Make(dtypes.Int32, dt.batch), 0), start) // in the permutation
	rows := ExpandAxes(Gather(perm, ExpandAxes(position, -1)), -1)          // [batch,1] example indices
	x, target := Gather(inputs, rows), Gather(targets, rows)
	mask := ConvertDType(LessThan(position, st[stN]), dtypes.Float32)

	weights := st[stWeights : stWeights+P]
	plain := make(map[string]*Node, P)
	for i, path := range dt.paths {
		plain[path] = weights[i]
	}
	var logits *Node
	withPlainWeights(g, plain, func() { logits = dt.ae.Arch.Logits(dt.ae.scope(), x) })
	loss := maskedBCE([]*Node{target, mask}, []*Node{logits})
	grads := Gradient(loss, weights...)

	adamT, nextW, nextM1, nextM2 := adamStep(st[stAdamT], st[stLR], weights, st[stWeights+P:stWeights+2*P], st[stWeights+2*P:stWeights+3*P], grads)
	next := slices.Clone(st)
	copy(next[stWeights:], nextW)
	copy(next[stWeights+P:], nextM1)
	copy(next[stWeights+2*P:], nextM2)
	next[stAdamT] = adamT
	// losses[step] = loss, as a one-hot sum (the pure-Go backend lacks DynamicUpdateSlice).
	at := ConvertDType(Equal(Iota(g, shapes.Make(dtypes.Int32, dt.steps), 0), step), dtypes.Float32)
	next[stLosses] = Add(st[stLosses], Mul(at, loss))
	next[stStep] = AddScalar(step, 1)
	return next
}

// adamStep is one Adam update of weights by grads, GoMLX's optimizer.Adam op for op (so every
// training path follows the same trajectory), on plain nodes: adamT is the step count before
// this update, lr the learning rate; it returns the new step count, weights and moments.
func adamStep(adamT, lr *Node, weights, m1, m2, grads []*Node) (nextT *Node, nextW, nextM1, nextM2 []*Node) {
	g := adamT.Graph()
	nextT = AddScalar(adamT, 1)
	beta1, beta2 := Scalar(g, dtypes.Float32, adamBeta1), Scalar(g, dtypes.Float32, adamBeta2)
	debias1 := Reciprocal(OneMinus(Pow(beta1, nextT)))
	debias2 := Reciprocal(OneMinus(Pow(beta2, nextT)))
	epsilon := Scalar(g, dtypes.Float32, adamEpsilon)
	for i, grad := range grads {
		mo1 := Add(Mul(beta1, m1[i]), Mul(OneMinus(beta1), grad))
		mo2 := Add(Mul(beta2, m2[i]), Mul(OneMinus(beta2), Square(grad)))
		direction := Div(Mul(lr, Mul(mo1, debias1)), Add(Sqrt(Mul(mo2, debias2)), epsilon))
		nextW, nextM1, nextM2 = append(nextW, Sub(weights[i], direction)), append(nextM1, mo1), append(nextM2, mo2)
	}
	return nextT, nextW, nextM1, nextM2
}

// compile builds and compiles the graph without running it.
func (dt *deviceTrainer) compile() error {
	_, err := dt.exec.Compile(dt.stateShapes()...)
	return err
}

// epoch trains one epoch in the permutation of data.Permutation(n, seed, epoch) (the order the
// host loop uses) and returns each batch's loss.
func (dt *deviceTrainer) epoch(ctx context.Context, epoch int) ([]float32, error) {
	perm := make([]int32, dt.steps*dt.batch)
	for i, p := range data.Permutation(dt.n, dt.ae.Config.Seed, epoch) {
		perm[i] = int32(p)
	}
	permT := tensors.FromFlatDataAndDimensions(perm, len(perm))
	losses := tensors.FromShape(shapes.Make(dtypes.Float32, dt.steps))
	calls, step := 1, int32(0)
	if !dt.loop {
		calls = dt.steps
	}
	for range calls {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		args := append([]any{tensors.FromScalar(step), tensors.FromScalar(int32(dt.steps)), tensors.FromScalar(int32(dt.n)),
			dt.inputs, dt.targets, permT, dt.adamT, dt.lr, losses}, dt.stateArgs()...)
		out, err := dt.exec.Call(args...)
		if err != nil {
			return nil, err
		}
		P := len(dt.weights)
		dt.adamT, losses = out[0], out[1]
		dt.weights, dt.m1, dt.m2 = out[2:2+P], out[2+P:2+2*P], out[2+2*P:2+3*P]
		step++
	}
	dt.globalStep += int64(dt.steps)
	if err := dt.writeBack(); err != nil {
		return nil, err
	}
	return tensors.CopyFlatData[float32](losses)
}

// writeBack puts the training state into the store's variables: the weights for inference,
// evaluation and checkpoints, Adam's moments and step and the global step for whoever trains
// next. The old values are preserved because the device trainer still holds them as inputs.
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
	errs = append(errs, set(ts.adamStepVar, ts.adamT), set(ts.globalStepVar, tensors.FromScalar(ts.globalStep)))
	return errors.Join(errs...)
}

// adamMoments returns the variables where GoMLX's optimizer.Adam keeps the first and second
// moments of the trainable variable v, creating them (zero) if it has not trained yet.
func adamMoments(store *model.Store, v *model.Variable) (m1, m2 *model.Variable) {
	scope := store.Scope(path.Join("/", optimizer.AdamDefaultScope, v.Scope())).WithInitializer(initializer.Zero)
	m1 = scope.VariableWithShape(v.Name()+"_1st_moment", v.Shape()).SetTrainable(false)
	m2 = scope.VariableWithShape(v.Name()+"_2nd_moment", v.Shape()).SetTrainable(false)
	return m1, m2
}

// epochTrainer is a training loop aelib builds itself: the device loop (this file) or the step
// trainer (steptrain.go).
type epochTrainer interface {
	compile() error
	epoch(ctx context.Context, epoch int) ([]float32, error) // trains one epoch, returns each batch's loss; stops between calls when ctx is done
	state() *trainState
}

func (ts *trainState) state() *trainState { return ts }

// trainOnDevice is Train on the device (see the top of this file): loop selects one While per
// epoch (XLA) or one call per step (any backend; what the tests compare with the host loop).
func (ae *Autoencoder) trainOnDevice(ctx context.Context, s Splits, opts TrainOptions, loop bool) (*History, error) {
	// Validation is a forward pass only: on XLA it runs in a few large batches, since each call
	// costs more than the arithmetic of a training-sized batch.
	valBatch := ae.Config.BatchSize
	if loop {
		valBatch = max(valBatch, min(deviceValidationBatch, s.NTest))
	}
	return ae.trainEpochs(ctx, s, opts, valBatch, func() (epochTrainer, error) { return newDeviceTrainer(ae, s, loop) })
}

// trainEpochs is Train with a loop aelib builds (newTrainer makes it): compile, then each epoch's
// steps, validation (in batches of valBatch) and the observers.
func (ae *Autoencoder) trainEpochs(ctx context.Context, s Splits, opts TrainOptions, valBatch int, newTrainer func() (epochTrainer, error)) (hist *History, err error) {
	defer recoverGraphPanic(&err)
	cfg := ae.Config
	if s.NTrain == 0 || s.NTest == 0 {
		return nil, fmt.Errorf("aelib: training needs examples in both splits (train %d, test %d)", s.NTrain, s.NTest)
	}
	trainStart := time.Now()
	tr, err := newTrainer()
	if err != nil {
		return nil, err
	}
	if err := tr.compile(); err != nil {
		return nil, fmt.Errorf("aelib: compiling the training step: %w", err)
	}
	dt := tr.state()
	hist = &History{StepsPerEpoch: dt.steps, CompileSeconds: time.Since(trainStart).Seconds()}
	eval := newEvaluator(ae, s.TestInputs, s.TestTargets, s.NTest, valBatch)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		if epoch == 1 {
			start = trainStart // like the host loop, the first epoch pays for compilation
		}
		if err := ctx.Err(); err != nil {
			hist.Seconds = time.Since(trainStart).Seconds()
			return hist, fmt.Errorf("aelib: training stopped in epoch %d: %w", epoch, err)
		}
		losses, err := tr.epoch(ctx, epoch)
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
					dt.globalStep-int64(dt.steps)+int64(i)+1, l)
			}
			valid := min(dt.batch, dt.n-i*dt.batch)
			lossSum += float64(l) * float64(valid)
		}
		val, err := eval.run()
		if err != nil {
			return hist, err
		}
		m := EpochMetrics{Epoch: epoch, Step: dt.globalStep, TrainLoss: lossSum / float64(dt.n),
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
