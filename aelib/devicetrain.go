package aelib

import (
	"context"
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/aelab/aelab/aelib/data"
)

// This file is the device loop, the step engine for XLA: the training split stays on the
// accelerator, every batch is gathered there by the epoch's permutation, and the whole epoch is
// one executable call, a graph.While whose body is the training computation
// (Architecture.lossAndGradients, penalties included) and adamStep on plain tensors carried in
// the loop state.
//
// Constraints of go-xla that shape the code: the loop body captures nothing from the enclosing
// function (data, permutation, weights, optimizer and random state all travel in the loop
// state), and the main function creates no scalar constant (GoMLX caches scalars graph-wide,
// and a cached main-function scalar reused in the body mixes functions): every scalar the main
// function needs comes in as an input.

// Positions in the device loop's state (its carry).
const (
	carryStep    = iota // int32 scalar: index of the next batch
	carrySteps          // int32 scalar: batches per epoch
	carryN              // int32 scalar: training examples (rows of the permutation beyond it are padding)
	carryInputs         // [N,784] float32
	carryTargets        // [N,784] float32
	carryPerm           // [steps*batch] int32, padded with 0
	carryAdamT          // float32 scalar: Adam's step count
	carryLR             // float32 scalar: learning rate
	carryLosses         // [steps] float32: each batch's loss
	carryRNG            // the random state (graph.RNGStateShape)
	carryWeights        // then the weights, Adam's first moments and second moments, P of each
)

// deviceValidationBatch is the validation batch of the device loop: MNIST's 10,000 test images
// in five calls, which bounds the conv model's largest activation.
const deviceValidationBatch = 2000

// deviceEngine holds the compiled epoch and the training state on the device.
type deviceEngine struct {
	*trainState
	hand    bool // as engineChoice.hand
	exec    *Exec
	inputs  *tensors.Tensor
	targets *tensors.Tensor
}

func newDeviceEngine(ae *Autoencoder, s Splits, hand bool) (*deviceEngine, error) {
	ts, err := newTrainState(ae, s.NTrain)
	if err != nil {
		return nil, err
	}
	de := &deviceEngine{trainState: ts, hand: hand}
	de.inputs = tensors.FromFlatDataAndDimensions(s.TrainInputs, s.NTrain, data.Pixels)
	de.targets = de.inputs
	if &s.TrainTargets[0] != &s.TrainInputs[0] {
		de.targets = tensors.FromFlatDataAndDimensions(s.TrainTargets, s.NTrain, data.Pixels)
	}
	de.exec, err = NewExec(ae.Backend, de.graph)
	if err != nil {
		return nil, err
	}
	de.exec.WithName("aelab_device_epoch_" + ae.Arch.Name)
	return de, nil
}

// carryShapes are the shapes of the exec's inputs (the loop state).
func (de *deviceEngine) carryShapes() []shapes.Shape {
	i32, f32 := shapes.Make(dtypes.Int32), shapes.Make(dtypes.Float32)
	out := []shapes.Shape{i32, i32, i32, de.inputs.Shape(), de.targets.Shape(),
		shapes.Make(dtypes.Int32, de.steps*de.batch), f32, f32, shapes.Make(dtypes.Float32, de.steps), de.rng.Shape()}
	for range 3 {
		for _, w := range de.weights {
			out = append(out, w.Shape())
		}
	}
	return out
}

// graph is the exec's graph: inputs the loop state; outputs Adam's step, the losses, the random
// state, the weights and the moments after the epoch.
func (de *deviceEngine) graph(carry []*Node) []*Node {
	g := carry[0].Graph()
	shp := make([]shapes.Shape, len(carry))
	for i, c := range carry {
		shp[i] = c.Shape()
	}
	params := func(g *Graph) []*Node {
		ps := make([]*Node, len(shp))
		for i, s := range shp {
			ps[i] = Parameter(g, fmt.Sprintf("carry_%d", i), s)
		}
		return ps
	}
	cond := NewClosure(g, func(g *Graph) []*Node {
		ps := params(g)
		return []*Node{LessThan(ps[carryStep], ps[carrySteps])}
	})
	body := NewClosure(g, func(g *Graph) []*Node { return de.step(params(g)) })
	final := While(cond, body, carry...)
	return append([]*Node{final[carryAdamT]}, final[carryLosses:]...)
}

// step is one training step on the loop state: gather the batch by the permutation, mask the
// padding rows (position ≥ N), the training computation, Adam. It returns the next state.
func (de *deviceEngine) step(c []*Node) []*Node {
	g := c[0].Graph()
	P := len(de.weights)
	step, inputs, targets, perm := c[carryStep], c[carryInputs], c[carryTargets], c[carryPerm]
	start := Mul(step, Scalar(g, dtypes.Int32, de.batch))
	position := Add(Iota(g, shapes.Make(dtypes.Int32, de.batch), 0), start) // in the permutation
	rows := ExpandAxes(Gather(perm, ExpandAxes(position, -1)), -1)          // [batch,1] example indices
	x, target := Gather(inputs, rows), Gather(targets, rows)
	mask := ConvertDType(LessThan(position, c[carryN]), dtypes.Float32)

	weights := c[carryWeights : carryWeights+P]
	f := newForward(de.ae.scope(), g)
	f.hand = de.hand
	if de.ae.Arch.drawsRandom() {
		f.rng = c[carryRNG]
	}
	loss, grads := de.ae.Arch.lossAndGradients(f, x, target, mask, exampleCount(mask), de.paths, weights)

	adamT, nextW, nextM1, nextM2 := adamStep(c[carryAdamT], c[carryLR], weights, c[carryWeights+P:carryWeights+2*P], c[carryWeights+2*P:carryWeights+3*P], grads)
	next := slices.Clone(c)
	copy(next[carryWeights:], nextW)
	copy(next[carryWeights+P:], nextM1)
	copy(next[carryWeights+2*P:], nextM2)
	next[carryAdamT] = adamT
	if f.rng != nil {
		next[carryRNG] = f.rng
	}
	// losses[step] = loss, as a one-hot sum (the pure-Go backend lacks DynamicUpdateSlice).
	at := ConvertDType(Equal(Iota(g, shapes.Make(dtypes.Int32, de.steps), 0), step), dtypes.Float32)
	next[carryLosses] = Add(c[carryLosses], Mul(at, loss))
	next[carryStep] = AddScalar(step, 1)
	return next
}

// compile builds and compiles the graph without running it.
func (de *deviceEngine) compile() error {
	_, err := de.exec.Compile(de.carryShapes()...)
	return err
}

// epoch trains one epoch in the permutation of data.Permutation(n, seed, epoch) and returns
// each batch's loss.
func (de *deviceEngine) epoch(ctx context.Context, epoch int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	perm := make([]int32, de.steps*de.batch)
	for i, p := range data.Permutation(de.n, de.ae.Config.Seed, epoch) {
		perm[i] = int32(p)
	}
	losses := tensors.FromShape(shapes.Make(dtypes.Float32, de.steps))
	args := []any{tensors.FromScalar(int32(0)), tensors.FromScalar(int32(de.steps)), tensors.FromScalar(int32(de.n)),
		de.inputs, de.targets, tensors.FromFlatDataAndDimensions(perm, len(perm)), de.adamT, de.lr, losses, de.rng}
	for _, group := range [][]*tensors.Tensor{de.weights, de.m1, de.m2} {
		for _, t := range group {
			args = append(args, t)
		}
	}
	out, err := de.exec.Call(args...)
	if err != nil {
		return nil, err
	}
	P := len(de.weights)
	de.adamT, losses, de.rng = out[0], out[1], out[2]
	de.weights, de.m1, de.m2 = out[3:3+P], out[3+P:3+2*P], out[3+2*P:3+3*P]
	de.globalStep += int64(de.steps)
	if err := de.writeBack(); err != nil {
		return nil, err
	}
	return tensors.CopyFlatData[float32](losses)
}
