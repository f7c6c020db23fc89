package aelib

import (
	"context"
	"iter"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/aelab/aelab/aelib/data"
)

// trainWithGoMLX trains ae for epochs with GoMLX's own train.Trainer — graph.Gradient of the
// whole loss and optimizer.Adam, on the store's variables — one call per batch in the order of
// data.Permutation: the reference aelib's engines are checked against. It returns each epoch's
// metrics as Train would (train loss averaged over the real examples, validation BCE).
func trainWithGoMLX(t *testing.T, ae *Autoencoder, s Splits, epochs int) []EpochMetrics {
	t.Helper()
	cfg := ae.Config
	if cfg.BatchSize > s.NTrain {
		cfg.BatchSize = s.NTrain
	}
	trainer := train.NewTrainer(ae.Backend, ae.store,
		func(scope *model.Scope, inputs []*Node) []*Node {
			x, mask := inputs[0], inputs[1]
			f := newForward(ae.scope(), x.Graph())
			f.training = true
			logits := f.run(ae.Arch, x, 0, len(ae.Arch.Layers))
			penalty := ae.Arch.penalty(f, mask)
			if penalty == nil {
				penalty = ScalarZero(x.Graph(), x.DType())
			}
			return []*Node{logits, penalty}
		},
		func(labels, predictions []*Node) *Node {
			return Add(Div(weightedBCESum(labels[0], labels[1], predictions[0]), exampleCount(labels[1])), predictions[1])
		},
		optimizer.Adam().LearningRate(cfg.LearningRate).Betas(adamBeta1, adamBeta2).Epsilon(adamEpsilon).Done(),
		nil, nil)
	ds := &referenceBatches{inputs: s.TrainInputs, targets: s.TrainTargets, n: s.NTrain, batch: cfg.BatchSize, seed: cfg.Seed}
	eval := newEvaluator(ae, s.TestInputs, s.TestTargets, s.NTest, cfg.BatchSize)
	var out []EpochMetrics
	for epoch := 1; epoch <= epochs; epoch++ {
		ds.epoch = epoch
		var lossSum float64
		loop := train.NewLoop(trainer)
		loop.OnStep("reference", 0, func(_ *train.Loop, metrics []*tensors.Tensor) error {
			loss := float64(tensors.MustCopyFlatData[float32](metrics[0])[0])
			if math.IsNaN(loss) {
				t.Fatalf("reference: NaN loss at step %d", trainer.GlobalStep())
			}
			lossSum += loss * float64(ds.lastValid)
			return nil
		})
		if _, err := loop.RunSteps(ds, ds.steps()); err != nil {
			t.Fatalf("reference training, epoch %d: %v", epoch, err)
		}
		val, err := eval.run()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, EpochMetrics{Epoch: epoch, Step: trainer.GlobalStep(), TrainLoss: lossSum / float64(s.NTrain), ValLoss: val.bce})
	}
	return out
}

// referenceBatches is the training data as a train.Dataset for trainWithGoMLX: each Iter is one
// epoch in data.Permutation's order, the last batch padded, inputs x and the mask, labels the
// targets and the mask.
type referenceBatches struct {
	inputs, targets []float32
	n, batch        int
	seed            uint64
	epoch           int
	lastValid       int // real examples in the batch last yielded
}

func (b *referenceBatches) Name() string { return "train" }

func (b *referenceBatches) steps() int { return (b.n + b.batch - 1) / b.batch }

func (b *referenceBatches) Iter() iter.Seq2[train.Batch, error] {
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
			mask := tensors.FromFlatDataAndDimensions(weights, b.batch)
			batch := train.Batch{
				Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, b.batch, data.Pixels), mask},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(target, b.batch, data.Pixels), mask},
			}
			if !yield(batch, nil) {
				return
			}
		}
	}
}

// trainAndCompare trains a fresh copy of cfg (or of arch, when it has layers) with Train and
// another with trainWithGoMLX, from the same initial weights, and fails when an epoch's losses
// or step differ, or the stores' training state differs beyond tol.
func trainAndCompare(t *testing.T, cfg Config, arch Architecture, backend string, opts TrainOptions, s Splits, tol float64) (engine, reference *Autoencoder) {
	t.Helper()
	mk := func() *Autoencoder {
		if len(arch.Layers) == 0 {
			return newTestAE(t, cfg, backend)
		}
		c := cfg
		c.Backend = backend
		ae, err := NewCustom(arch, c)
		if err != nil {
			t.Fatal(err)
		}
		return ae
	}
	engine, reference = mk(), mk()
	h, err := engine.Train(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	ref := trainWithGoMLX(t, reference, s, cfg.Epochs)
	for i := range ref {
		r, e := ref[i], h.Epochs[i]
		t.Logf("epoch %d: GoMLX trainer loss %.7f val %.7f | %s engine loss %.7f val %.7f", i+1, r.TrainLoss, r.ValLoss, engine.Loop(opts), e.TrainLoss, e.ValLoss)
		if relDiff(r.TrainLoss, e.TrainLoss) > 1e-4 || relDiff(r.ValLoss, e.ValLoss) > 1e-4 || r.Step != e.Step {
			t.Errorf("epoch %d: GoMLX trainer loss %g val %g step %d, %s engine loss %g val %g step %d",
				i+1, r.TrainLoss, r.ValLoss, r.Step, engine.Loop(opts), e.TrainLoss, e.ValLoss, e.Step)
		}
	}
	compareStores(t, reference, engine, tol)
	return engine, reference
}
