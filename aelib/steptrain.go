package aelib

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

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
// Convolutional models split each batch into shards (stepShards) whose forward and backward
// passes run at the same time, each in an ONNX Runtime session of its own; a shard's loss and
// gradient are divided by the whole batch's count of real examples, so their sums are the
// batch's, and one Adam step on the summed gradient follows: the step of the whole batch, up
// to the order of float additions.
//
// Between steps it finalizes the vectors it produced and no longer needs, so ONNX Runtime's
// output buffers are recycled instead of allocated every step.
type stepTrainer struct {
	*trainState
	// shards are the parts of each batch, run concurrently, one graph (ONNX Runtime session)
	// each; with one shard its graph is the whole step, Adam included.
	shards []*stepShard
	// update is Adam on the sum of the shards' gradients (nil with one shard).
	update           *Exec
	inputs, targets  []float32       // the training split
	count            *tensors.Tensor // the batch's real examples, at least 1: the loss's denominator
	targetsAreInputs bool
	handGradients    bool
	sizes            []int                    // values of each variable, in path order
	flat             [3]*tensors.Tensor       // weights, first moments, second moments, end to end
	owned            map[*tensors.Tensor]bool // vectors and step counts this trainer produced
	graphPath        string                   // where to write the step's ONNX model; "" for nowhere
	report           *stepReporter            // the step observers; nil for none
	sessionThreads   int                      // intra-op threads of each session; 0 for the backend's default
}

// stepShard is one part of each batch: rows consecutive rows of it, with their own inputs and
// their own compiled graph.
type stepShard struct {
	exec            *Exec
	rows            int
	x, target, mask *tensors.Tensor
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

// newStepTrainer makes the step trainer of ae on the splits, sharding its batches as
// stepShards says for this machine.
func newStepTrainer(ae *Autoencoder, s Splits, graphPath string) (*stepTrainer, error) {
	shards, threads := stepShards(opsFor(ae.Backend.Name()), ae.Arch, min(ae.Config.BatchSize, s.NTrain), runtime.NumCPU())
	return newShardedStepTrainer(ae, s, graphPath, shards, threads)
}

// newShardedStepTrainer makes a step trainer that splits each batch into shards, run at the
// same time, with threads intra-op threads per session (0: the backend's default).
func newShardedStepTrainer(ae *Autoencoder, s Splits, graphPath string, shards, threads int) (*stepTrainer, error) {
	ts, err := newTrainState(ae, s.NTrain)
	if err != nil {
		return nil, err
	}
	st := &stepTrainer{trainState: ts, inputs: s.TrainInputs, targets: s.TrainTargets,
		targetsAreInputs: &s.TrainTargets[0] == &s.TrainInputs[0], owned: map[*tensors.Tensor]bool{},
		handGradients: opsFor(ae.Backend.Name()).handGradients, graphPath: graphPath,
		count: tensors.FromScalar(float32(1)), sessionThreads: threads}
	// Rows are dealt out as evenly as they go; a batch that does not divide leaves the last
	// shard padding rows, masked like a short last batch.
	rows := (ts.batch + max(1, shards) - 1) / max(1, shards)
	shards = (ts.batch + rows - 1) / rows // no shard of padding alone
	for i := range shards {
		sh := &stepShard{rows: rows, x: tensors.FromShape(shapes.Make(dtypes.Float32, rows, 784)),
			mask: tensors.FromShape(shapes.Make(dtypes.Float32, rows))}
		sh.target = sh.x
		if !st.targetsAreInputs {
			sh.target = tensors.FromShape(shapes.Make(dtypes.Float32, rows, 784))
		}
		graph := st.shardGraph
		if shards == 1 {
			graph = st.stepGraph
		}
		if sh.exec, err = NewExec(ae.Backend, graph); err != nil {
			return nil, err
		}
		sh.exec.WithName(fmt.Sprintf("aelab_step_%s_shard%d", ae.Arch.Name, i))
		st.shards = append(st.shards, sh)
	}
	if shards > 1 {
		if st.update, err = NewExec(ae.Backend, st.updateGraph); err != nil {
			return nil, err
		}
		st.update.WithName("aelab_adam_" + ae.Arch.Name)
	}
	for _, w := range ts.weights {
		st.sizes = append(st.sizes, w.Shape().Size())
	}
	for i, group := range [][]*tensors.Tensor{ts.weights, ts.m1, ts.m2} {
		if st.flat[i], err = concatFlat(group); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// lossAndGradient is the loss of the examples x, target, mask (divided by count) and its
// gradient by the flat weight vector wFlat.
func (st *stepTrainer) lossAndGradient(x, target, mask, count, wFlat *Node) (loss, grad *Node) {
	P := len(st.weights)
	plain := make(map[string]*Node, P)
	weights := make([]*Node, P)
	offset := 0
	for i, path := range st.paths {
		weights[i] = Reshape(Slice(wFlat, AxisRange(offset, offset+st.sizes[i])), st.weights[i].Shape().Dimensions...)
		plain[path] = weights[i]
		offset += st.sizes[i]
	}
	grads := make([]*Node, P)
	withPlainWeights(x.Graph(), plain, func() {
		if st.handGradients {
			var byPath map[string]*Node
			loss, byPath = st.ae.Arch.lossAndGradients(st.ae.scope(), x, target, mask, count)
			for i, path := range st.paths {
				if grads[i] = byPath[path]; grads[i] == nil {
					panic(fmt.Sprintf("aelib: no hand-written gradient for %s", path))
				}
			}
			return
		}
		logits := st.ae.Arch.Logits(st.ae.scope(), x)
		loss = Div(weightedBCESum(target, mask, logits), count)
		grads = Gradient(loss, weights...)
	})
	for i, g := range grads {
		grads[i] = Reshape(g, st.sizes[i])
	}
	return loss, Concatenate(grads, 0)
}

// stepGraph is one whole training step: inputs x, target, mask, count, Adam's step, the
// learning rate and the three flat vectors; outputs the loss, Adam's step and the three vectors.
func (st *stepTrainer) stepGraph(in []*Node) []*Node {
	loss, grad := st.lossAndGradient(in[0], in[1], in[2], in[3], in[6])
	return append([]*Node{loss}, st.adam(in[4], in[5], in[6], in[7], in[8], grad)...)
}

// shardGraph is one shard's part of a step: inputs x, target, mask, the whole batch's count and
// the weights; outputs the shard's part of the loss and of the gradient.
func (st *stepTrainer) shardGraph(in []*Node) []*Node {
	loss, grad := st.lossAndGradient(in[0], in[1], in[2], in[3], in[4])
	return []*Node{loss, grad}
}

// updateGraph is Adam on the shards' summed gradients: inputs Adam's step, the learning rate,
// the three flat vectors and one gradient per shard; outputs Adam's step and the three vectors.
func (st *stepTrainer) updateGraph(in []*Node) []*Node {
	grad := in[5]
	for _, g := range in[6:] {
		grad = Add(grad, g)
	}
	return st.adam(in[0], in[1], in[2], in[3], in[4], grad)
}

// adam is adamStep on the flat vectors: Adam's next step and the three updated vectors.
func (st *stepTrainer) adam(adamT, lr, wFlat, m1Flat, m2Flat, grad *Node) []*Node {
	nextT, w, m1, m2 := adamStep(adamT, lr, []*Node{wFlat}, []*Node{m1Flat}, []*Node{m2Flat}, []*Node{grad})
	return []*Node{nextT, w[0], m1[0], m2[0]}
}

func (st *stepTrainer) compile() error {
	if st.graphPath != "" {
		if err := keepONNXModels(st.ae.Backend); err != nil {
			return err
		}
	}
	if st.sessionThreads > 0 {
		return withSessionThreads(st.sessionThreads, st.compileGraphs)
	}
	return st.compileGraphs()
}

// compileGraphs compiles the shards' graphs and Adam's, and writes the step's ONNX model when
// asked to.
func (st *stepTrainer) compileGraphs() error {
	state := []shapes.Shape{st.adamT.Shape(), st.lr.Shape(), st.flat[0].Shape(), st.flat[1].Shape(), st.flat[2].Shape()}
	var written *Graph
	for _, sh := range st.shards {
		in := []shapes.Shape{sh.x.Shape(), sh.target.Shape(), sh.mask.Shape(), st.count.Shape()}
		if st.update == nil {
			in = append(in, state...)
		} else {
			in = append(in, st.flat[0].Shape())
		}
		g, err := sh.exec.Compile(in...)
		if err != nil {
			return err
		}
		if written == nil {
			written = g // every shard runs the same graph
		}
	}
	if st.update != nil {
		in := slices.Clone(state)
		for range st.shards {
			in = append(in, st.flat[0].Shape())
		}
		if _, err := st.update.Compile(in...); err != nil {
			return err
		}
	}
	if st.graphPath == "" {
		return nil
	}
	return writeONNXModel(st.ae.Backend, written.Executable(), st.graphPath)
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
		loss, err := st.step()
		if err != nil {
			return nil, err
		}
		losses = append(losses, loss)
		if err := st.report.step(float64(loss), float64(len(idx))); err != nil {
			return nil, err
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

// step trains on the batch fill wrote and returns its loss: one call with one shard; otherwise
// one call per shard, all at once, then Adam's.
func (st *stepTrainer) step() (float32, error) {
	state := []any{st.adamT, st.lr, st.flat[0], st.flat[1], st.flat[2]}
	if st.update == nil {
		sh := st.shards[0]
		out, err := sh.exec.Call(append([]any{sh.x, sh.target, sh.mask, st.count}, state...)...)
		if err != nil {
			return 0, err
		}
		loss := tensors.ToScalar[float32](out[0])
		out[0].FinalizeAll()
		st.keep(out[1:])
		return loss, nil
	}
	parts := make([][]*tensors.Tensor, len(st.shards))
	errs := make([]error, len(st.shards))
	var wg sync.WaitGroup
	for i, sh := range st.shards {
		wg.Go(func() { parts[i], errs[i] = sh.exec.Call(sh.x, sh.target, sh.mask, st.count, st.flat[0]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	var loss float32
	args := state
	for _, p := range parts {
		loss += tensors.ToScalar[float32](p[0])
		args = append(args, p[1])
	}
	out, err := st.update.Call(args...)
	for _, p := range parts {
		p[0].FinalizeAll()
		p[1].FinalizeAll()
	}
	if err != nil {
		return 0, err
	}
	st.keep(out)
	return loss, nil
}

// keep takes Adam's step and the three vectors a step returned as the new state.
func (st *stepTrainer) keep(out []*tensors.Tensor) {
	st.replace(&st.adamT, out[0])
	for i := range st.flat {
		st.replace(&st.flat[i], out[1+i])
	}
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

// fill writes the batch of the examples idx into the shards' input tensors (in place: on ONNX
// Runtime they share the runtime's buffers), zero-padding a short batch and masking its padding,
// and sets the count of real examples.
func (st *stepTrainer) fill(idx []int) {
	for s, sh := range st.shards {
		rows := idx[min(s*sh.rows, len(idx)):min((s+1)*sh.rows, len(idx))]
		copyRows := func(t *tensors.Tensor, from []float32) {
			tensors.MustMutableFlatData(t, func(flat []float32) {
				for row, i := range rows {
					copy(flat[row*784:(row+1)*784], from[i*784:(i+1)*784])
				}
				clear(flat[len(rows)*784:])
			})
		}
		copyRows(sh.x, st.inputs)
		if !st.targetsAreInputs {
			copyRows(sh.target, st.targets)
		}
		tensors.MustMutableFlatData(sh.mask, func(flat []float32) {
			for i := range flat {
				flat[i] = 0
				if i < len(rows) {
					flat[i] = 1
				}
			}
		})
	}
	tensors.MustMutableFlatData(st.count, func(flat []float32) { flat[0] = float32(max(len(idx), 1)) })
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

// minShardRows is the smallest shard stepShards makes: below it the products get too thin to
// pay for a session call.
const minShardRows = 16

// stepShards returns how many shards the step trainer splits each batch of a into, on cpus
// cores, and the intra-op threads of each shard's session (0: the backend's default).
//
// Convolutional models shard, one shard per core with one thread each: ONNX Runtime runs
// their step op by op, and 40–45 % of it is memory-bound work (shifted views, max-pooling's
// mask, upsampling) that its per-operator threads barely spread: two shards on one thread each
// took half the CPU time of the whole batch on two threads, and less wall time
// (docs/performance.md, lever 8). The dense models' steps are matrix products that ONNX
// Runtime's threads already share well: shards measured no faster there.
func stepShards(ops graphOps, a Architecture, batch, cpus int) (shards, threads int) {
	if !ops.dataParallel || !slices.ContainsFunc(a.Layers, func(l Layer) bool { return l.Kind == KindConv }) {
		return 1, 0
	}
	shards = min(cpus, batch/minShardRows)
	if shards < 2 {
		return 1, 0
	}
	return shards, max(1, cpus/shards)
}
