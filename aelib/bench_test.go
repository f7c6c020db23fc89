package aelib

import (
	"context"
	"testing"
)

// BenchmarkTrainStep times training steps of each course model on the backend ChooseBackend
// picks (or $GOMLX_BACKEND), over a small subset: two epochs of benchSteps steps, the second
// timed (the first compiles). It reports steps/s and the seconds a full 60,000-image epoch
// would take at that rate. `aelab bench` is the command-line twin.
//
//	go test -tags onnx -run '^$' -bench TrainStep ./aelib
func BenchmarkTrainStep(b *testing.B) {
	const benchSteps = 4
	for _, m := range []string{ModelVanilla, ModelDeep, ModelDenoise} {
		b.Run(m, func(b *testing.B) {
			cfg, err := DefaultConfig(m)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, benchSteps*cfg.BatchSize, cfg.BatchSize
			ds := loadMNIST(b)
			s := PrepareSplits(cfg, ds)
			var perStep float64
			for range b.N {
				ae, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				h, err := ae.Train(context.Background(), s, TrainOptions{})
				if err != nil {
					b.Fatal(err)
				}
				perStep = h.Epochs[1].TrainSeconds / float64(h.StepsPerEpoch)
			}
			fullSteps := (ds.Train.N + cfg.BatchSize - 1) / cfg.BatchSize
			b.ReportMetric(1/perStep, "steps/s")
			b.ReportMetric(perStep*float64(fullSteps), "s/epoch")
			b.ReportMetric(float64(cfg.BatchSize)/perStep, "samples/s")
		})
	}
}
