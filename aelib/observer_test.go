package aelib

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// stepRecorder records every step and epoch it is told of; it fails at step failAt if set.
type stepRecorder struct {
	steps  []StepProgress
	epochs []EpochMetrics
	failAt int
}

func (r *stepRecorder) EpochEnd(m EpochMetrics) error { r.epochs = append(r.epochs, m); return nil }

func (r *stepRecorder) StepEnd(p StepProgress) error {
	r.steps = append(r.steps, p)
	if len(r.steps) == r.failAt {
		return errors.New("display closed")
	}
	return nil
}

func TestStepObserver(t *testing.T) {
	cfg := smallConfig(t, ModelVanilla, 2)
	cfg.TrainSubset = 600 // 3 steps of 256 per epoch, the last one partial
	ae, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ae.UsesDeviceLoop() {
		t.Skip("the XLA device loop runs an epoch per call and reports epochs only")
	}
	rec := &stepRecorder{}
	if _, err := ae.Train(context.Background(), PrepareSplits(cfg, loadMNIST(t)), TrainOptions{Observers: []Observer{rec}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rec.steps {
		got = append(got, fmt.Sprintf("%d/%d:%d/%d", p.Epoch, p.Epochs, p.Step, p.Steps))
	}
	if want := "1/2:1/3 1/2:2/3 1/2:3/3 2/2:1/3 2/2:2/3 2/2:3/3"; strings.Join(got, " ") != want {
		t.Errorf("steps %v, want %s", got, want)
	}
	for e, m := range rec.epochs { // the last step's running mean is the epoch's training loss
		if last := rec.steps[3*e+2]; last.Loss != m.TrainLoss {
			t.Errorf("epoch %d: last step's mean loss %v, epoch's training loss %v", m.Epoch, last.Loss, m.TrainLoss)
		}
	}

	ae, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec = &stepRecorder{failAt: 4}
	_, err = ae.Train(context.Background(), PrepareSplits(cfg, loadMNIST(t)), TrainOptions{Observers: []Observer{rec}})
	if err == nil || !strings.Contains(err.Error(), "display closed") || len(rec.epochs) != 1 {
		t.Errorf("a failing step observer: error %v after %d epochs; want it to stop training in epoch 2", err, len(rec.epochs))
	}
}

// The progress line is rewritten in place (a carriage return before each state) and finished
// with a newline when the epoch's last step is done; steps in between may be skipped.
func TestProgressLine(t *testing.T) {
	var b strings.Builder
	p := &progressLine{w: &b}
	for step := 1; step <= 3; step++ {
		if err := p.StepEnd(StepProgress{Epoch: 1, Epochs: 2, Step: step, Steps: 3, Loss: 0.25}); err != nil {
			t.Fatal(err)
		}
	}
	out := b.String()
	if !strings.HasPrefix(out, "\repoch 1/2  step 1/3  loss 0.2500") || !strings.HasSuffix(out, "\repoch 1/2  step 3/3  loss 0.2500\n") ||
		strings.Count(out, "\n") != 1 {
		t.Errorf("progress output %q", out)
	}
}
