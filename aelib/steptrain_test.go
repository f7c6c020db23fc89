package aelib

import (
	"context"
	"fmt"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
)

// A batch trained in shards, run at the same time, takes the same step as the whole batch:
// same losses, same weights and Adam state (up to the order of float additions), the short
// last batch's padding masked in every shard. Three shards of a 16-row batch leave the last one
// 4 real rows of 6, and in the last batch of 8 none at all. Each sharded trainer starts from
// the one-shard trainer's initial weights (same seed, same store contents).
func TestShardedStepMatchesWholeBatch(t *testing.T) {
	backends := testBackends(t)
	for _, tc := range []struct {
		model, backend string
		train, batch   int
		tol            float64
	}{
		{ModelDenoise, "onnx", 40, 16, 5e-3}, // conv biases: see TestStepEngineMatchesGoMLXTrainer
		{ModelDeep, "onnx", 600, 256, 1e-4},  // last batch 88 of 256
		{ModelDeep, "go", 600, 256, 1e-4},    // graph.Gradient's gradients
	} {
		t.Run(tc.model+"/"+tc.backend, func(t *testing.T) {
			if backends[tc.backend] == nil { // testBackends has failed the test on CI
				t.Skipf("no %s backend here: build with -tags onnx and run `make setup`", tc.backend)
			}
			cfg, _ := DefaultConfig(tc.model)
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, tc.train, 100, tc.batch
			s := smallSplits(t, cfg)
			hand := opsFor(backends[tc.backend].Name()).handGradients
			train := func(t *testing.T, shards, threads int) (*Autoencoder, *History) {
				ae := newTestAE(t, cfg, backendConfigs[tc.backend])
				h, err := ae.trainEpochs(context.Background(), s, TrainOptions{}, cfg.BatchSize, func() (engine, error) {
					return newShardedStepEngine(ae, s, "", hand, shards, threads)
				})
				if err != nil {
					t.Fatal(err)
				}
				return ae, h
			}
			whole, wh := train(t, 1, 0)
			for _, sc := range []struct{ shards, threads int }{{2, 1}, {3, 0}} {
				t.Run(fmt.Sprintf("%d-shards", sc.shards), func(t *testing.T) {
					sharded, sh := train(t, sc.shards, sc.threads)
					for i := range wh.Epochs {
						w, s := wh.Epochs[i], sh.Epochs[i]
						if relDiff(w.TrainLoss, s.TrainLoss) > 1e-5 || relDiff(w.ValLoss, s.ValLoss) > 1e-4 || w.Step != s.Step {
							t.Errorf("epoch %d: whole batch loss %g val %g step %d, %d shards loss %g val %g step %d",
								i+1, w.TrainLoss, w.ValLoss, w.Step, sc.shards, s.TrainLoss, s.ValLoss, s.Step)
						}
					}
					compareStores(t, whole, sharded, tc.tol)
				})
			}
		})
	}
}

// backendConfigs are the GoMLX configs of testBackends' names.
var backendConfigs = map[string]string{"go": "go", "onnx": "onnx:cpu"}

// Models shard their batches where sessions run at the same time, one shard per core (at least
// minShardRows rows each, minDenseShardRows for a dense model) with its cores shared out as
// threads, a convolutional model's into shards of at most maxConvShardRows; backends without
// data parallelism and models that draw random numbers or have a penalty train whole batches.
func TestStepShards(t *testing.T) {
	arch := func(model string) Architecture {
		cfg, _ := DefaultConfig(model)
		return mustArch(t, cfg)
	}
	parallel := graphOps{dataParallel: true}
	for _, tc := range []struct {
		name                    string
		ops                     graphOps
		model                   string
		batch, cpus             int
		wantShards, wantThreads int
	}{
		{"denoise, 2 cores", parallel, ModelDenoise, 128, 2, 4, 1},
		{"denoise, 2 cores, batch 64", parallel, ModelDenoise, 64, 2, 2, 1},
		{"denoise, 16 cores", parallel, ModelDenoise, 128, 16, 8, 2},
		{"denoise, 6 cores", parallel, ModelDenoise, 128, 6, 6, 1},
		{"denoise, 2 cores, batch 256", parallel, ModelDenoise, 256, 2, 8, 1},
		{"denoise, 1 core", parallel, ModelDenoise, 128, 1, 1, 0},
		{"denoise, batch too small to split", parallel, ModelDenoise, 31, 2, 1, 0},
		{"denoise, no data parallelism", graphOps{}, ModelDenoise, 128, 2, 1, 0},
		{"vanilla, 2 cores", parallel, ModelVanilla, 256, 2, 2, 1},
		{"deep, 16 cores", parallel, ModelDeep, 256, 16, 4, 4},
		{"deep, batch too small to split", parallel, ModelDeep, 100, 2, 1, 0},
		{"deep, no data parallelism", graphOps{}, ModelDeep, 256, 2, 1, 0},
		{"sparse (a penalty)", parallel, ModelSparse, 256, 2, 1, 0},
		{"vae (draws random numbers)", parallel, ModelVAE, 256, 2, 1, 0},
		{"conv with dropout", parallel, "conv+dropout", 128, 2, 1, 0},
		{"conv with a penalty", parallel, "conv+penalty", 128, 2, 1, 0},
	} {
		a := arch(ModelDenoise)
		switch tc.model {
		case "conv+dropout":
			a.Layers = append(a.Layers[:2], append([]Layer{{Name: "drop", Kind: KindDropout, Rate: 0.1, Encoder: true}}, a.Layers[2:]...)...)
		case "conv+penalty":
			a.Penalties = []Penalty{{Name: "zero", Term: func(t Trace) *Node { return ReduceAllSum(MulScalar(t.Code(), 0)) }}}
		default:
			a = arch(tc.model)
		}
		shards, threads := stepShards(tc.ops, a, tc.batch, tc.cpus)
		if shards != tc.wantShards || threads != tc.wantThreads {
			t.Errorf("%s: %d shards of %d threads, want %d of %d", tc.name, shards, threads, tc.wantShards, tc.wantThreads)
		}
	}
}
