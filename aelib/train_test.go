package aelib

import (
	"math"
	"runtime"
	"runtime/debug"
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

// While a training runs, the collector lets the heap grow by trainingHeapHeadroom past the live
// data, never more than the setting it found; the last of overlapping trainings restores that
// setting.
func TestTrainingLimitsHeapGrowth(t *testing.T) {
	for live, want := range map[uint64]int{0: 100, 640 << 20: 10, 6400 << 20: 10, 320 << 20: 20, 32 << 20: 200} {
		if got := headroomPercent(live); got != want {
			t.Errorf("headroomPercent(%d MiB) = %d, want %d", live>>20, got, want)
		}
	}
	held := make([]float32, 64<<20) // 256 MiB live: at most 25 %
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	percent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	restoreOuter := limitHeapGrowth()
	if p := percent(); p > 25 || p < 10 {
		t.Errorf("training with 256 MiB live: GC percent %d, want 10-25", p)
	}
	limited := percent()
	restoreInner := limitHeapGrowth()
	restoreInner()
	if p := percent(); p != limited {
		t.Errorf("after an overlapping training ended: GC percent %d, want %d until the last ends", p, limited)
	}
	restoreOuter()
	if p := percent(); p != 100 {
		t.Errorf("after training: GC percent %d, want 100 restored", p)
	}
	debug.SetGCPercent(5)
	limitHeapGrowth()()
	if p := percent(); p != 5 {
		t.Errorf("a tighter setting than the training's: %d after training, want 5", p)
	}
	runtime.KeepAlive(held)
}
