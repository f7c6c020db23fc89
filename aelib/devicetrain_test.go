package aelib

import (
	"context"
	"testing"

	"github.com/aelab/aelab/internal/testenv"
)

// The device loop (one graph.While per epoch: batches gathered on the device by the
// permutation, padding masked, the training computation and Adam in the body) takes the same
// steps as the host-driven step engine. XLA is not on CI; the pure-Go backend runs While bodies
// whose gradients are all written by hand, so the test runs both engines with hand-written
// gradients there. (Its While fails on any graph.Gradient node in the body — "input 0 for node
// Mul not computed yet" — so the models with a penalty or a layer without a hand gradient, which
// run the same lossAndGradients in the same body, are checked in the step engine only.)
func TestDeviceLoopMatchesStepEngine(t *testing.T) {
	for _, tc := range []struct {
		model        string
		train, batch int
	}{
		{ModelVanilla, 600, 256}, // 3 steps per epoch, the last one partial (88 of 256)
		{ModelDenoise, 24, 16},   // conv, pool, upsample; last batch 8 of 16
	} {
		t.Run(tc.model, func(t *testing.T) {
			if tc.model == ModelDenoise {
				testenv.Slow(t, "the conv model on the pure-Go backend")
			}
			cfg, _ := DefaultConfig(tc.model)
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset, cfg.BatchSize = 2, tc.train, 100, tc.batch
			s := smallSplits(t, cfg)
			train := func(device bool) (*Autoencoder, *History) {
				ae := newTestAE(t, cfg, goBackendForWhile)
				h, err := ae.trainEpochs(context.Background(), s, TrainOptions{}, cfg.BatchSize, func() (engine, error) {
					if device {
						return newDeviceEngine(ae, s, true)
					}
					return newStepEngine(ae, s, "", true)
				})
				if err != nil {
					t.Fatal(err)
				}
				return ae, h
			}
			step, sh := train(false)
			device, dh := train(true)
			for i := range sh.Epochs {
				a, b := sh.Epochs[i], dh.Epochs[i]
				if relDiff(a.TrainLoss, b.TrainLoss) > 1e-4 || relDiff(a.ValLoss, b.ValLoss) > 1e-4 || a.Step != b.Step {
					t.Errorf("epoch %d: step engine loss %g val %g step %d, device loop loss %g val %g step %d",
						i+1, a.TrainLoss, a.ValLoss, a.Step, b.TrainLoss, b.ValLoss, b.Step)
				}
			}
			compareStores(t, step, device, 1e-4)
		})
	}
}

// goBackendForWhile is the pure-Go backend with its ops run one after the other: with them run
// in parallel, a While body's parallel ops and a matrix product inside them wait for each
// other's workers, and on a 2-core machine the test hung (gomlx/compute v0.1.2's workers pool).
// Production runs the device loop on XLA only.
const goBackendForWhile = "go:ops_sequential"
