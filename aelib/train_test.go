package aelib

import (
	"math"
	"testing"
)

// The evaluator gives the same metrics whether it streams one batch's tensors, refilled for each
// batch, or builds every batch once, for a split whose size is not a multiple of the batch (the
// last batch padded), with and without noise (targets the inputs themselves or not), on every
// run; and its metrics are the host's, computed from Reconstruct.
func TestEvaluatorStreamsSameMetrics(t *testing.T) {
	backends := []string{"go"}
	if onnxForTests(t) {
		backends = append(backends, "onnx:cpu")
	}
	for _, backend := range backends {
		for _, noise := range []float64{0, 0.5} {
			cfg := smallConfig(t, ModelVanilla, 1)
			cfg.TestSubset, cfg.BatchSize, cfg.Noise = 300, 128, noise // 128 + 128 + 44
			s := smallSplits(t, cfg)
			ae := newTestAE(t, cfg, backend)
			if err := ae.Initialize(); err != nil {
				t.Fatal(err)
			}
			streamed := newEvaluatorResident(ae, s.TestInputs, s.TestTargets, s.NTest, cfg.BatchSize, false)
			resident := newEvaluatorResident(ae, s.TestInputs, s.TestTargets, s.NTest, cfg.BatchSize, true)
			if len(streamed.batches) != 1 || len(resident.batches) != 3 {
				t.Fatalf("%s: streamed holds %d batches, resident %d; want 1 and 3", backend, len(streamed.batches), len(resident.batches))
			}
			if same := streamed.batches[0][0] == streamed.batches[0][1]; same != (noise == 0) {
				t.Errorf("%s noise %g: inputs and targets share a tensor: %v", backend, noise, same)
			}
			var runs []valMetrics
			for _, e := range []*evaluator{streamed, resident, streamed} {
				v, err := e.run()
				if err != nil {
					t.Fatalf("%s: %v", backend, err)
				}
				runs = append(runs, v)
			}
			streamed.close()
			resident.close()
			if runs[0] != runs[1] || runs[2] != runs[0] {
				t.Errorf("%s noise %g: streamed %+v, resident %+v, streamed again %+v", backend, noise, runs[0], runs[1], runs[2])
			}
			out, err := ae.Reconstruct(s.TestInputs, s.NTest)
			if err != nil {
				t.Fatal(err)
			}
			var bce, mse, mae float64
			for i, p := range out {
				y, q := float64(s.TestTargets[i]), float64(p)
				bce -= y*math.Log(q) + (1-y)*math.Log(1-q)
				mse += (q - y) * (q - y)
				mae += math.Abs(q - y)
			}
			n := float64(len(out))
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"bce", runs[0].bce, bce / n}, {"mse", runs[0].mse, mse / n}, {"mae", runs[0].mae, mae / n}} {
				if math.Abs(c.got-c.want) > 1e-4*math.Abs(c.want) {
					t.Errorf("%s noise %g: validation %s %.7f, host %.7f", backend, noise, c.name, c.got, c.want)
				}
			}
		}
	}
}
