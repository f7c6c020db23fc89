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

// stepEngine is the host-driven step engine (ONNX Runtime, the pure-Go backend): one call per
// batch of a step graph aelib builds: the batch (assembled on the host, in the order of
// data.Permutation), the weights, Adam's state and the random state go in; the loss and the
// updated state come out. The graph is Architecture.lossAndGradients and adamStep.
//
// The weights and Adam's moments travel as three flat vectors (all variables end to end, in
// path order), so Adam is a dozen operations on three long vectors rather than a dozen per
// variable: ONNX Runtime runs a graph op by op, and dispatching many small operations costs
// time of its own (docs/performance.md, lever 2). The layers read their weights as slices of the
// flat vector. The per-variable tensors of trainState are filled from the vectors at the end of
// every epoch, for the store.
//
// Models split each batch into shards (stepShards) whose forward and backward
// passes run at the same time, each in an ONNX Runtime session of its own; a shard's loss and
// gradient are divided by the whole batch's count of real examples, so their sums are the
// batch's, and one Adam step on the summed gradient follows: the step of the whole batch, up
// to the order of float additions.
//
// Between steps it finalizes the vectors it produced and no longer needs, so ONNX Runtime's
// output buffers are recycled instead of allocated every step.
type stepEngine struct {
	*trainState
	// shards are the parts of each batch, run concurrently, one graph (ONNX Runtime session)
	// each; with one shard its graph is the whole step, Adam included.
	shards []*stepShard
	// update is Adam on the sum of the shards' gradients (nil with one shard).
	update           *Exec
	inputs, targets  []float32       // the training split
	count            *tensors.Tensor // the batch's real examples, at least 1: the loss's denominator
	targetsAreInputs bool
	hand             bool                     // hand-written gradients where the layers have them (engineChoice.hand)
	random           bool                     // the model draws random numbers in training: the random state travels
	sizes            []int                    // values of each variable, in path order
	flat             [3]*tensors.Tensor       // weights, first moments, second moments, end to end
	owned            map[*tensors.Tensor]bool // vectors and step counts this trainer produced
	graphPath        string                   // where to write the step's ONNX model; "" for nowhere
	report           *stepReporter            // the step observers; nil for none
	sessionThreads   int                      // intra-op threads of each session; 0 for the backend's default
	parallel         int                      // shards run at one time: the cores over sessionThreads
}

// stepShard is one part of each batch: rows consecutive rows of it, with their own inputs and
// their own compiled graph.
type stepShard struct {
	exec            *Exec
	rows            int
	x, target, mask *tensors.Tensor
}

// newStepEngine makes the step engine of ae on the splits, sharding its batches as
// stepShards says for this machine; hand as engineChoice.hand.
func newStepEngine(ae *Autoencoder, s Splits, graphPath string, hand bool) (*stepEngine, error) {
	shards, threads := stepShards(opsFor(ae.Backend.Name()), ae.Arch, min(ae.Config.BatchSize, s.NTrain), runtime.NumCPU())
	return newShardedStepEngine(ae, s, graphPath, hand, shards, threads)
}

// newShardedStepEngine makes a step engine that splits each batch into shards, run at the
// same time, with threads intra-op threads per session (0: the backend's default).
func newShardedStepEngine(ae *Autoencoder, s Splits, graphPath string, hand bool, shards, threads int) (*stepEngine, error) {
	ts, err := newTrainState(ae, s.NTrain)
	if err != nil {
		return nil, err
	}
	se := &stepEngine{trainState: ts, inputs: s.TrainInputs, targets: s.TrainTargets,
		targetsAreInputs: &s.TrainTargets[0] == &s.TrainInputs[0], owned: map[*tensors.Tensor]bool{},
		hand: hand, random: ae.Arch.drawsRandom(), graphPath: graphPath,
		count: tensors.FromScalar(float32(1)), sessionThreads: threads,
		parallel: max(1, runtime.NumCPU()/max(1, threads))}
	// Rows are dealt out as evenly as they go; a batch that does not divide leaves the last
	// shard padding rows, masked like a short last batch.
	rows := (ts.batch + max(1, shards) - 1) / max(1, shards)
	shards = (ts.batch + rows - 1) / rows // no shard of padding alone
	for i := range shards {
		sh := &stepShard{rows: rows, x: tensors.FromShape(shapes.Make(dtypes.Float32, rows, 784)),
			mask: tensors.FromShape(shapes.Make(dtypes.Float32, rows))}
		sh.target = sh.x
		if !se.targetsAreInputs {
			sh.target = tensors.FromShape(shapes.Make(dtypes.Float32, rows, 784))
		}
		graph := se.shardGraph
		if shards == 1 {
			graph = se.stepGraph
		}
		if sh.exec, err = NewExec(ae.Backend, graph); err != nil {
			return nil, err
		}
		sh.exec.WithName(fmt.Sprintf("aelab_step_%s_shard%d", ae.Arch.Name, i))
		se.shards = append(se.shards, sh)
	}
	if shards > 1 {
		if se.update, err = NewExec(ae.Backend, se.updateGraph); err != nil {
			return nil, err
		}
		se.update.WithName("aelab_adam_" + ae.Arch.Name)
	}
	for _, w := range ts.weights {
		se.sizes = append(se.sizes, w.Shape().Size())
	}
	for i, group := range [][]*tensors.Tensor{ts.weights, ts.m1, ts.m2} {
		if se.flat[i], err = concatFlat(group); err != nil {
			return nil, err
		}
	}
	return se, nil
}

// lossAndGradient is the loss of the examples x, target, mask (its BCE divided by count) and
// its gradient by the flat weight vector wFlat; rng is the random state (nil when the model
// draws none), returned as the draws left it.
func (se *stepEngine) lossAndGradient(x, target, mask, count, wFlat, rng *Node) (loss, grad, nextRNG *Node) {
	weights := make([]*Node, len(se.weights))
	offset := 0
	for i := range se.paths {
		weights[i] = Reshape(Slice(wFlat, AxisRange(offset, offset+se.sizes[i])), se.weights[i].Shape().Dimensions...)
		offset += se.sizes[i]
	}
	f := newForward(se.ae.scope(), x.Graph())
	f.hand, f.rng = se.hand, rng
	loss, grads := se.ae.Arch.lossAndGradients(f, x, target, mask, count, se.paths, weights)
	for i, g := range grads {
		grads[i] = Reshape(g, se.sizes[i])
	}
	return loss, Concatenate(grads, 0), f.rng
}

// stepGraph is one whole training step: inputs x, target, mask, count, Adam's step, the
// learning rate, the three flat vectors and, when the model draws random numbers, the random
// state; outputs the loss, Adam's step, the three vectors and the random state.
func (se *stepEngine) stepGraph(in []*Node) []*Node {
	var rng *Node
	if se.random {
		rng = in[9]
	}
	loss, grad, rng := se.lossAndGradient(in[0], in[1], in[2], in[3], in[6], rng)
	out := append([]*Node{loss}, se.adam(in[4], in[5], in[6], in[7], in[8], grad)...)
	if se.random {
		out = append(out, rng)
	}
	return out
}

// shardGraph is one shard's part of a step: inputs x, target, mask, the whole batch's count and
// the weights; outputs the shard's part of the loss and of the gradient.
func (se *stepEngine) shardGraph(in []*Node) []*Node {
	loss, grad, _ := se.lossAndGradient(in[0], in[1], in[2], in[3], in[4], nil)
	return []*Node{loss, grad}
}

// updateGraph is Adam on the shards' summed gradients: inputs Adam's step, the learning rate,
// the three flat vectors and one gradient per shard; outputs Adam's step and the three vectors.
func (se *stepEngine) updateGraph(in []*Node) []*Node {
	grad := in[5]
	for _, g := range in[6:] {
		grad = Add(grad, g)
	}
	return se.adam(in[0], in[1], in[2], in[3], in[4], grad)
}

// adam is adamStep on the flat vectors: Adam's next step and the three updated vectors.
func (se *stepEngine) adam(adamT, lr, wFlat, m1Flat, m2Flat, grad *Node) []*Node {
	nextT, w, m1, m2 := adamStep(adamT, lr, []*Node{wFlat}, []*Node{m1Flat}, []*Node{m2Flat}, []*Node{grad})
	return []*Node{nextT, w[0], m1[0], m2[0]}
}

func (se *stepEngine) compile() error {
	if se.graphPath != "" {
		if err := keepONNXModels(se.ae.Backend); err != nil {
			return err
		}
	}
	if se.sessionThreads > 0 {
		return withSessionThreads(se.sessionThreads, se.compileGraphs)
	}
	return se.compileGraphs()
}

// compileGraphs compiles the shards' graphs and Adam's, and writes the step's ONNX model when
// asked to.
func (se *stepEngine) compileGraphs() error {
	state := []shapes.Shape{se.adamT.Shape(), se.lr.Shape(), se.flat[0].Shape(), se.flat[1].Shape(), se.flat[2].Shape()}
	if se.random {
		state = append(state, se.rng.Shape())
	}
	var written *Graph
	for _, sh := range se.shards {
		in := []shapes.Shape{sh.x.Shape(), sh.target.Shape(), sh.mask.Shape(), se.count.Shape()}
		if se.update == nil {
			in = append(in, state...)
		} else {
			in = append(in, se.flat[0].Shape())
		}
		g, err := sh.exec.Compile(in...)
		if err != nil {
			return err
		}
		if written == nil {
			written = g // every shard runs the same graph
		}
	}
	if se.update != nil { // sharded: the model draws no random numbers
		in := slices.Clone(state)
		for range se.shards {
			in = append(in, se.flat[0].Shape())
		}
		if _, err := se.update.Compile(in...); err != nil {
			return err
		}
	}
	if se.graphPath == "" {
		return nil
	}
	return writeONNXModel(se.ae.Backend, written.Executable(), se.graphPath)
}

// epoch trains one epoch in the order of data.Permutation(n, seed, epoch) and returns each
// batch's loss.
func (se *stepEngine) epoch(ctx context.Context, epoch int) ([]float32, error) {
	perm := data.Permutation(se.n, se.ae.Config.Seed, epoch)
	losses := make([]float32, 0, se.steps)
	se.report.startEpoch(epoch)
	for start := 0; start < se.n; start += se.batch {
		if err := ctx.Err(); err != nil { // an interrupt stops the run between two steps, not at the epoch's end
			return nil, err
		}
		idx := perm[start:min(start+se.batch, se.n)]
		se.fill(idx)
		loss, err := se.step()
		if err != nil {
			return nil, err
		}
		losses = append(losses, loss)
		if err := se.report.step(float64(loss), float64(len(idx))); err != nil {
			return nil, err
		}
	}
	se.globalStep += int64(se.steps)
	// The store gets per-variable copies; the vectors stay with the trainer.
	for i, group := range [][]*tensors.Tensor{se.weights, se.m1, se.m2} {
		if err := splitFlat(se.flat[i], group); err != nil {
			return nil, err
		}
	}
	delete(se.owned, se.adamT) // the store holds them now
	delete(se.owned, se.rng)
	if err := se.writeBack(); err != nil {
		return nil, err
	}
	return losses, nil
}

// step trains on the batch fill wrote and returns its loss: one call with one shard; otherwise
// one call per shard, parallel of them at a time, then Adam's.
func (se *stepEngine) step() (float32, error) {
	state := []any{se.adamT, se.lr, se.flat[0], se.flat[1], se.flat[2]}
	if se.random {
		state = append(state, se.rng)
	}
	if se.update == nil {
		sh := se.shards[0]
		out, err := sh.exec.Call(append([]any{sh.x, sh.target, sh.mask, se.count}, state...)...)
		if err != nil {
			return 0, err
		}
		loss := tensors.ToScalar[float32](out[0])
		out[0].FinalizeAll()
		se.keep(out[1:])
		return loss, nil
	}
	// Every shard reads the step's count and weights. GoMLX moves a host tensor to the backend
	// on its first use as an argument, checking its state before it takes the tensor's lock: two
	// shards doing that at once can find it in neither place. So they are moved here, once.
	for _, t := range []*tensors.Tensor{se.count, se.flat[0]} {
		if err := t.MaterializeOnDevice(se.ae.Backend, true, 0); err != nil {
			return 0, fmt.Errorf("aelib: the step's shared arguments: %w", err)
		}
	}
	parts := make([][]*tensors.Tensor, len(se.shards))
	errs := make([]error, len(se.shards))
	var wg sync.WaitGroup
	running := make(chan struct{}, se.parallel)
	for i, sh := range se.shards {
		wg.Go(func() {
			running <- struct{}{}
			defer func() { <-running }()
			parts[i], errs[i] = sh.exec.Call(sh.x, sh.target, sh.mask, se.count, se.flat[0])
		})
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
	out, err := se.update.Call(args...)
	for _, p := range parts {
		p[0].FinalizeAll()
		p[1].FinalizeAll()
	}
	if err != nil {
		return 0, err
	}
	se.keep(out)
	return loss, nil
}

// keep takes Adam's step, the three vectors and the random state (when it travels) a step
// returned as the new state.
func (se *stepEngine) keep(out []*tensors.Tensor) {
	se.replace(&se.adamT, out[0])
	for i := range se.flat {
		se.replace(&se.flat[i], out[1+i])
	}
	if se.random {
		se.replace(&se.rng, out[4])
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
func (se *stepEngine) fill(idx []int) {
	for s, sh := range se.shards {
		rows := idx[min(s*sh.rows, len(idx)):min((s+1)*sh.rows, len(idx))]
		copyRows := func(t *tensors.Tensor, from []float32) {
			tensors.MustMutableFlatData(t, func(flat []float32) {
				for row, i := range rows {
					copy(flat[row*784:(row+1)*784], from[i*784:(i+1)*784])
				}
				clear(flat[len(rows)*784:])
			})
		}
		copyRows(sh.x, se.inputs)
		if !se.targetsAreInputs {
			copyRows(sh.target, se.targets)
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
	tensors.MustMutableFlatData(se.count, func(flat []float32) { flat[0] = float32(max(len(idx), 1)) })
}

// replace sets *slot to t, finalizing the tensor it held if this trainer produced it and the
// store does not hold it.
func (se *stepEngine) replace(slot **tensors.Tensor, t *tensors.Tensor) {
	if old := *slot; se.owned[old] {
		delete(se.owned, old)
		old.FinalizeAll()
	}
	*slot = t
	se.owned[t] = true
}

// minShardRows is the smallest shard stepShards makes of a convolutional model's batch: below
// it the products get too thin to pay for a session call. minDenseShardRows is the same for a
// dense model, whose products are all the step has: a shard keeps them at least this wide.
// maxConvShardRows is the largest shard of a convolutional model: its activations, patches
// above all, grow with its rows, and shards of this size take no longer per row.
const (
	minShardRows      = 16
	minDenseShardRows = 64
	maxConvShardRows  = 32
)

// stepShards returns how many shards the step engine splits each batch of a into, on cpus
// cores, and the intra-op threads of each shard's session (0: the backend's default). The
// engine runs cpus/threads shards at a time (stepEngine.parallel).
//
// Every model that can shards, one shard per core with its cores shared out as threads. ONNX
// Runtime runs a step op by op and spreads each operator over its threads: convolutional
// steps are largely memory-bound work (shifted views, max-pooling's mask, upsampling) that its
// per-operator threads barely spread, and even the dense models' matrix products scale worse
// over its threads than over shards, which only meet at the gradient sum and Adam
// (docs/performance.md, lever 8 and "Beyond parity"). A convolutional model's shards hold at
// most maxConvShardRows rows, more shards than cores where the batch is large, which bounds
// the memory the shards running at one time need. A model that draws random numbers or has a
// penalty trains whole batches: a shard's draws and penalty would not be the whole batch's.
func stepShards(ops graphOps, a Architecture, batch, cpus int) (shards, threads int) {
	if !ops.dataParallel || a.drawsRandom() || len(a.Penalties) > 0 {
		return 1, 0
	}
	conv := slices.ContainsFunc(a.Layers, func(l Layer) bool { return l.Kind == KindConv })
	minRows := minDenseShardRows
	if conv {
		minRows = minShardRows
	}
	shards = min(cpus, batch/minRows)
	if shards < 2 {
		return 1, 0
	}
	threads = max(1, cpus/shards)
	if conv {
		shards = max(shards, (batch+maxConvShardRows-1)/maxConvShardRows)
	}
	return shards, threads
}
