package sweeps

import (
	"context"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

func values(status tracker.Status, vs ...float64) []tracker.SweepValue {
	out := make([]tracker.SweepValue, len(vs))
	for i, v := range vs {
		out[i] = tracker.SweepValue{Trial: i + 10, Status: status, Value: v}
	}
	return out
}

func TestMedianRule(t *testing.T) {
	r := Stopping{Rule: RuleMedian, WarmupEpochs: 2, MinTrials: 3}
	minimize := Metric{Name: "val_bce", LowerIsBetter: true, PerEpoch: true}
	done := values(tracker.StatusFinished, 0.10, 0.12, 0.30)
	for _, c := range []struct {
		name  string
		epoch int
		own   float64
		peers []tracker.SweepValue
		stop  bool
	}{
		{"worse than the median", 2, 0.13, done, true},
		{"equal to the median goes on", 2, 0.12, done, false},
		{"better goes on", 2, 0.11, done, false},
		{"in the warm-up", 1, 0.5, done, false},
		{"too few finished trials", 2, 0.5, done[:2], false},
		{"running trials do not count", 2, 0.5, append(done[:2:2], values(tracker.StatusRunning, 0.01)...), false},
	} {
		reason := medianRule(r, minimize, c.epoch, c.own, c.peers)
		if (reason != "") != c.stop {
			t.Errorf("%s: reason %q, want stop=%v", c.name, reason, c.stop)
		}
	}
	got := medianRule(r, minimize, 2, 0.13, done)
	if want := "median rule at epoch 2: val_bce 0.13 is worse than the median 0.12 of 3 finished trials"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	maximize := Metric{Name: "test_ssim"}
	if medianRule(r, maximize, 2, 0.11, done) == "" || medianRule(r, maximize, 2, 0.13, done) != "" {
		t.Error("maximised metric: the rule is upside down")
	}
}

func TestASHARule(t *testing.T) {
	r := Stopping{Rule: RuleASHA, WarmupEpochs: 1, ReductionFactor: 3}
	m := Metric{Name: "val_bce", LowerIsBetter: true, PerEpoch: true}
	peers := values(tracker.StatusRunning, 0.10, 0.20, 0.30, 0.40) // best third: cutoff 0.2
	for _, c := range []struct {
		epoch, epochs int
		own           float64
		stop          bool
	}{
		{1, 10, 0.25, true},  // rung 1, outside the best third
		{1, 10, 0.15, false}, // inside it
		{3, 10, 0.25, true},  // rung 3 = 1·3
		{2, 10, 0.25, false}, // not a rung
		{9, 10, 0.25, true},  // rung 9
		{9, 9, 0.25, false},  // the last epoch: nothing to save
	} {
		if got := ashaRule(r, m, c.epoch, c.epochs, c.own, peers) != ""; got != c.stop {
			t.Errorf("epoch %d/%d own %g: stop=%v, want %v", c.epoch, c.epochs, c.own, got, c.stop)
		}
	}
	if ashaRule(r, m, 1, 10, 0.9, nil) != "" {
		t.Error("the first trial at a rung was stopped")
	}
	if !isRung(4, 1, 2) || isRung(6, 1, 2) || !isRung(2, 2, 3) || isRung(1, 2, 3) {
		t.Error("isRung")
	}
}

func TestQuantile(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		q    float64
		want float64
	}{{[]float64{3, 1, 2}, 0.5, 2}, {[]float64{1, 2, 3, 4}, 0.5, 2.5}, {[]float64{0.1, 0.2, 0.3, 0.4}, 1.0 / 3, 0.2}, {[]float64{5}, 0.9, 5}} {
		if got := quantile(c.v, c.q); got < c.want-1e-12 || got > c.want+1e-12 {
			t.Errorf("quantile(%v, %g) = %g, want %g", c.v, c.q, got, c.want)
		}
	}
}

// A trial much worse than the others at epoch 1 stops there, by either rule, and its run is
// FINISHED with why and when it stopped.
func TestEarlyStoppingStopsAPoorTrialAsFinished(t *testing.T) {
	for _, c := range []struct{ name, rule, reason string }{
		{"median", "{rule: median, min_trials: 2}", "median rule at epoch 1: val_bce"},
		{"asha", "{rule: asha, reduction_factor: 3}", "ASHA rung at epoch 1: val_bce"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := openTestStore(t)
			spec := mustParse(t, `
name: stopping
model: vanilla
base: {epochs: 3, subset: 512, test-subset: 256, batch: 128}
parameters:
  lr: [0.002, 0.003, 0.0000001] # the second is better than the first at epoch 1, as ASHA needs
early_stopping: `+c.rule+`
`)
			var log strings.Builder
			sw, err := RunLocal(context.Background(), store, spec, LocalOptions{Workers: 1, Log: &log})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			runs, err := store.SweepRuns(sw.ID, -1)
			if err != nil || len(runs) != 3 {
				t.Fatalf("%d runs, %v", len(runs), err)
			}
			for i, r := range runs {
				hist, err := store.MetricHistory(r.ID, "val_bce")
				if err != nil {
					t.Fatal(err)
				}
				stopped := i == 2
				if r.Status != tracker.StatusFinished || (r.Tags[tracker.TagSweepStoppedEarly] != "") != stopped {
					t.Errorf("trial %d: %s, stopped %q", i, r.Status, r.Tags[tracker.TagSweepStoppedEarly])
				}
				if want := map[bool]int{true: 1, false: 3}[stopped]; len(hist) != want {
					t.Errorf("trial %d: %d epochs of val_bce, want %d", i, len(hist), want)
				}
				if stopped && (r.Tags[tracker.TagSweepStoppedEpoch] != "1" || !strings.HasPrefix(r.Tags[tracker.TagSweepStoppedEarly], c.reason)) {
					t.Errorf("stopped trial tags: %v", r.Tags)
				}
				if _, ok := r.Metrics["test_mse"]; !ok {
					t.Errorf("trial %d: no final evaluation", i)
				}
			}
		})
	}
}
