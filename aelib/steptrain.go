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

// stepTrainer trains the course's models on CPU backends one batch per call, with a step graph
// aelib builds itself instead of GoMLX's train.Trainer: the batch (assembled on the host, in
// the host loop's order), the weights and Adam's state go in; the loss and the updated state
// come out. The gradients are the hand-written ones of gradients.go where graphOps asks for
// them (ONNX Runtime), and Adam is adamStep, so the trajectory is the host loop's.
//
// The weights and Adam's moments travel as three flat vectors (all variables end to end, in
// path order), so Adam is a dozen operations on three long vectors rather than a dozen per
// variable: ONNX Runtime runs a graph op by op, and for the dense models the per-variable form
// spent about as long dispatching small operations as computing them. The layers read their
// weights as slices of the flat vector. The per-variable tensors of trainState are filled from
// the vectors at the end of every epoch, for the store.
//
// Between steps it finalizes the vectors it produced and no longer needs, so ONNX Runtime's
// output buffers are recycled instead of allocated every step.
type stepTrainer struct {
	*trainState
	exec             *Exec
	inputs, targets  []float32 // the training split
	x, target, mask  *tensors.Tensor
	targetsAreInputs bool
	handGradients    bool
	sizes            []int                    // values of each variable, in path order
	flat             [3]*tensors.Tensor       // weights, first moments, second moments, end to end
	owned            map[*tensors.Tensor]bool // vectors and step counts this trainer produced
	graphPath        string                   // where to write the step's ONNX model; "" for nowhere
	report           *stepReporter            // the step observers; nil for none
}

// UsesStepTrainer reports whether Train runs aelib's own step graph (the course's models on
// ONNX Runtime, with hand-written gradients) rather than GoMLX's train.Trainer.
func (ae *Autoencoder) UsesStepTrainer() bool {
	return opsFor(ae.Backend.Name()).handGradients && ae.Config.variant().DeviceLoop // the plain masked BCE, the layers gradients.go knows
}

// Loop names the training loop Train runs with opts: "device" (a whole epoch per call, XLA),
// "step" (aelib's step graph, stepTrainer) or "host" (GoMLX's train.Trainer).
func (ae *Autoencoder) Loop(opts TrainOptions) string {
	switch {
	case opts.HostLoop:
		return "host"
	case ae.UsesDeviceLoop():
		return "device"
	case ae.UsesStepTrainer():
		return "step"
	}
	return "host"
}

func newStepTrainer(ae *Autoencoder, s Splits, graphPath string) (*stepTrainer, error) {
	ts, err := newTrainState(ae, s.NTrain)
	if err != nil {
		return nil, err
	}
	st := &stepTrainer{trainState: ts, inputs: s.TrainInputs, targets: s.TrainTargets,
		targetsAreInputs: &s.TrainTargets[0] == &s.TrainInputs[0], owned: map[*tensors.Tensor]bool{},
		handGradients: opsFor(ae.Backend.Name()).handGradients, graphPath: graphPath}
	st.x = tensors.FromShape(shapes.Make(dtypes.Float32, ts.batch, 784))
	st.target = st.x
	if !st.targetsAreInputs {
		st.target = tensors.FromShape(shapes.Make(dtypes.Float32, ts.batch, 784))
	}
	st.mask = tensors.FromShape(shapes.Make(dtypes.Float32, ts.batch))
	for _, w := range ts.weights {
		st.sizes = append(st.sizes, w.Shape().Size())
	}
	for i, group := range [][]*tensors.Tensor{ts.weights, ts.m1, ts.m2} {
		if st.flat[i], err = concatFlat(group); err != nil {
			return nil, err
		}
	}
	if st.exec, err = NewExec(ae.Backend, st.graph); err != nil {
		return nil, err
	}
	st.exec.WithName("aelab_step_" + ae.Arch.Name)
	return st, nil
}

// graph is one training step: inputs x, target, mask, Adam's step, the learning rate and the
// three flat vectors; outputs the loss, Adam's step and the three vectors.
func (st *stepTrainer) graph(in []*Node) []*Node {
	x, target, mask, adamT, lr, wFlat, m1Flat, m2Flat := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]
	P := len(st.weights)
	plain := make(map[string]*Node, P)
	weights := make([]*Node, P)
	offset := 0
	for i, path := range st.paths {
		weights[i] = Reshape(Slice(wFlat, AxisRange(offset, offset+st.sizes[i])), st.weights[i].Shape().Dimensions...)
		plain[path] = weights[i]
		offset += st.sizes[i]
	}
	var loss *Node
	grads := make([]*Node, P)
	withPlainWeights(x.Graph(), plain, func() {
		if st.handGradients {
			var byPath map[string]*Node
			loss, byPath = st.ae.Arch.lossAndGradients(st.ae.scope(), x, target, mask)
			for i, path := range st.paths {
				if grads[i] = byPath[path]; grads[i] == nil {
					panic(fmt.Sprintf("aelib: no hand-written gradient for %s", path))
				}
			}
			return
		}
		logits := st.ae.Arch.Logits(st.ae.scope(), x)
		loss = maskedBCE([]*Node{target, mask}, []*Node{logits})
		grads = Gradient(loss, weights...)
	})
	for i, g := range grads {
		grads[i] = Reshape(g, st.sizes[i])
	}
	nextT, w, m1, m2 := adamStep(adamT, lr, []*Node{wFlat}, []*Node{m1Flat}, []*Node{m2Flat}, []*Node{Concatenate(grads, 0)})
	return []*Node{loss, nextT, w[0], m1[0], m2[0]}
}

func (st *stepTrainer) compile() error {
	if st.graphPath != "" {
		if err := keepONNXModels(st.ae.Backend); err != nil {
			return err
		}
	}
	g, err := st.exec.Compile(st.x.Shape(), st.target.Shape(), st.mask.Shape(), st.adamT.Shape(), st.lr.Shape(),
		st.flat[0].Shape(), st.flat[1].Shape(), st.flat[2].Shape())
	if err != nil || st.graphPath == "" {
		return err
	}
	return writeONNXModel(st.ae.Backend, g.Executable(), st.graphPath)
}

// epoch trains one epoch in the order of data.Permutation(n, seed, epoch), the host loop's, and
// returns each batch's loss.
func (st *stepTrainer) epoch(ctx context.Context, epoch int) ([]float32, error) {
	perm := data.Permutation(st.n, st.ae.Config.Seed, epoch)
	losses := make([]float32, 0, st.steps)
	st.report.startEpoch(epoch)
	for start := 0; start < st.n; start += st.batch {
		if err := ctx.Err(); err != nil { // an interrupt stops the run within a step, as the host loop does
			return nil, err
		}
		idx := perm[start:min(start+st.batch, st.n)]
		st.fill(idx)
		out, err := st.exec.Call(st.x, st.target, st.mask, st.adamT, st.lr, st.flat[0], st.flat[1], st.flat[2])
		if err != nil {
			return nil, err
		}
		losses = append(losses, tensors.ToScalar[float32](out[0]))
		if err := st.report.step(float64(losses[len(losses)-1]), float64(len(idx))); err != nil {
			return nil, err
		}
		out[0].FinalizeAll()
		st.replace(&st.adamT, out[1])
		for i := range st.flat {
			st.replace(&st.flat[i], out[2+i])
		}
	}
	st.globalStep += int64(st.steps)
	// The store gets per-variable copies; the vectors stay with the trainer.
	for i, group := range [][]*tensors.Tensor{st.weights, st.m1, st.m2} {
		if err := splitFlat(st.flat[i], group); err != nil {
			return nil, err
		}
	}
	delete(st.owned, st.adamT) // the store holds it now
	if err := st.writeBack(); err != nil {
		return nil, err
	}
	return losses, nil
}

// concatFlat puts the values of ts end to end in one vector.
func concatFlat(ts []*tensors.Tensor) (*tensors.Tensor, error) {
	var all []float32
	for _, t := range ts {
		v, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, fmt.Errorf("aelib: reading the training state: %w", err)
		}
		all = append(all, v...)
	}
	return tensors.FromFlatDataAndDimensions(all, len(all)), nil
}

// splitFlat replaces each tensor of ts by a new one holding its part of the vector flat.
func splitFlat(flat *tensors.Tensor, ts []*tensors.Tensor) error {
	all, err := tensors.CopyFlatData[float32](flat)
	if err != nil {
		return fmt.Errorf("aelib: reading the training state: %w", err)
	}
	offset := 0
	for i, t := range ts {
		n := t.Shape().Size()
		ts[i] = tensors.FromFlatDataAndDimensions(slices.Clone(all[offset:offset+n]), t.Shape().Dimensions...)
		offset += n
	}
	return nil
}

// fill writes the batch of the examples idx into the input tensors (in place: on ONNX Runtime
// they share the runtime's buffers), zero-padding a short last batch and masking its padding.
func (st *stepTrainer) fill(idx []int) {
	copyRows := func(t *tensors.Tensor, from []float32) {
		tensors.MustMutableFlatData(t, func(flat []float32) {
			for row, i := range idx {
				copy(flat[row*784:(row+1)*784], from[i*784:(i+1)*784])
			}
			clear(flat[len(idx)*784:])
		})
	}
	copyRows(st.x, st.inputs)
	if !st.targetsAreInputs {
		copyRows(st.target, st.targets)
	}
	tensors.MustMutableFlatData(st.mask, func(flat []float32) {
		for i := range flat {
			flat[i] = 0
			if i < len(idx) {
				flat[i] = 1
			}
		}
	})
}

// replace sets *slot to t, finalizing the tensor it held if this trainer produced it and the
// store does not hold it.
func (st *stepTrainer) replace(slot **tensors.Tensor, t *tensors.Tensor) {
	if old := *slot; st.owned[old] {
		delete(st.owned, old)
		old.FinalizeAll()
	}
	*slot = t
	st.owned[t] = true
}
