package gomlxhook

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/metric"

	"github.com/aelab/aelab/sysmetrics"
	"github.com/aelab/aelab/track"
)

// Options say what the hook logs and when.
type Options struct {
	// TrainEvery logs the trainer's train metrics every this many steps (default 10), and
	// always at the loop's end.
	TrainEvery int
	// EvalEvery evaluates the model on EvalDatasets (Trainer.Eval) every this many steps
	// (0: only at the loop's end) and logs their metrics.
	EvalEvery    int
	EvalDatasets []train.Dataset
	// Checkpoint, when given, has its checkpoints logged as the run's artifacts as they
	// appear (the hook does not save any: the program's own checkpointing does).
	Checkpoint *checkpoint.Handler
	// SystemEvery samples the process's CPU and memory (and GPU, where nvidia-smi is) this
	// often as system.* metrics (default 5 s; negative: never).
	SystemEvery time.Duration
}

// Priority of the hook's callbacks on the loop: after the program's own (a checkpoint saved at
// a step is logged at that step).
const Priority train.Priority = 1000

// Attach makes the run follow the loop: the model store's hyperparameters (model.Store params)
// become the run's params when the loop starts; train metrics are logged every TrainEvery
// steps and evaluation metrics every EvalEvery steps, by the loop's global step; checkpoints
// become artifacts; system metrics are sampled. When the run's context ends (an interrupt
// caught by the program), the next step stops the loop with the context's cause, so
// run.End(err) records the run KILLED.
//
// Metric names are GoMLX's own, as its plot collector names them, in snake case:
// "Train: Moving Average Loss" is train_moving_average_loss, "Mean Loss on test" is
// mean_loss_on_test.
func Attach(loop *train.Loop, run *track.Run, o Options) {
	if o.TrainEvery <= 0 {
		o.TrainEvery = 10
	}
	if o.SystemEvery == 0 {
		o.SystemEvery = 5 * time.Second
	}
	h := &hook{run: run, o: o, logged: map[string]bool{}}
	loop.OnStart("aelab.track", Priority, func(loop *train.Loop, _ train.Dataset) error {
		h.start(loop)
		return nil
	})
	loop.OnStep("aelab.track.context", Priority, func(*train.Loop, []*tensors.Tensor) error {
		if ctx := run.Context(); ctx != nil && ctx.Err() != nil {
			return fmt.Errorf("training stopped: %w", context.Cause(ctx))
		}
		return nil
	})
	train.EveryNSteps(loop, o.TrainEvery, "aelab.track.train", Priority, func(loop *train.Loop, metrics []*tensors.Tensor) error {
		h.logTrain(loop, metrics)
		h.logCheckpoints()
		return nil
	})
	if o.EvalEvery > 0 && len(o.EvalDatasets) > 0 {
		train.EveryNSteps(loop, o.EvalEvery, "aelab.track.eval", Priority, func(loop *train.Loop, _ []*tensors.Tensor) error {
			return h.eval(loop)
		})
	}
	loop.OnEnd("aelab.track", Priority, func(loop *train.Loop, metrics []*tensors.Tensor) error {
		defer h.stopSampling()
		h.logTrain(loop, metrics)
		err := h.eval(loop)
		h.logCheckpoints()
		h.sample(loop.Trainer.GlobalStep())
		return err
	})
}

// hook is one run following one loop.
type hook struct {
	run *track.Run
	o   Options

	mu        sync.Mutex
	step      int64 // the last step train metrics were logged at (system samples use it too)
	trainDone bool  // train metrics were logged at step
	sampler   *sysmetrics.Sampler
	logged    map[string]bool // checkpoints already logged
	lastEval  int64           // the step last evaluated (-1 before any)
	evalDone  bool
}

func (h *hook) start(loop *train.Loop) {
	h.run.LogParams(Params(loop.Trainer.Store().IterParams()))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.step, h.trainDone = loop.Trainer.GlobalStep(), false
	if h.o.SystemEvery > 0 && h.sampler == nil {
		h.sampler = sysmetrics.New(sysmetrics.Options{})
		h.sampler.Every(h.o.SystemEvery, func(s sysmetrics.Sample) {
			h.mu.Lock()
			step := h.step
			h.mu.Unlock()
			h.run.Log(step, s.Metrics())
		})
	}
}

func (h *hook) sample(step int64) {
	h.mu.Lock()
	s := h.sampler
	h.mu.Unlock()
	if s != nil {
		h.run.Log(step, s.Sample().Metrics())
	}
}

func (h *hook) stopSampling() {
	h.mu.Lock()
	s := h.sampler
	h.sampler = nil
	h.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// logTrain logs the train metrics of a step.
func (h *hook) logTrain(loop *train.Loop, metrics []*tensors.Tensor) {
	step := loop.Trainer.GlobalStep()
	h.mu.Lock()
	again := h.trainDone && h.step == step
	h.step, h.trainDone = step, true
	h.mu.Unlock()
	if again {
		return
	}
	h.run.LogEpoch(step, loop.Epoch, values(loop.Trainer.TrainMetrics(), metrics, func(name string) string { return "Train: " + name }))
}

// eval evaluates on every dataset and logs their metrics, once per step.
func (h *hook) eval(loop *train.Loop) error {
	step := loop.Trainer.GlobalStep()
	h.mu.Lock()
	if h.evalDone && h.lastEval == step {
		h.mu.Unlock()
		return nil
	}
	h.evalDone, h.lastEval = true, step
	h.mu.Unlock()
	all := map[string]float64{}
	for _, ds := range h.o.EvalDatasets {
		results, err := loop.Trainer.Eval(ds)
		if err != nil {
			return fmt.Errorf("aelab track: evaluating on %s: %w", ds.Name(), err)
		}
		for k, v := range values(loop.Trainer.EvalMetrics(), results, func(name string) string { return name + " on " + ds.Name() }) {
			all[k] = v
		}
	}
	h.run.LogEpoch(step, loop.Epoch, all)
	return nil
}

// logCheckpoints logs the checkpoints that appeared since the last call.
func (h *hook) logCheckpoints() {
	if h.o.Checkpoint == nil {
		return
	}
	names, err := h.o.Checkpoint.ListCheckpoints()
	if err != nil {
		return // the folder may not exist before the first save
	}
	for _, n := range names {
		h.mu.Lock()
		seen := h.logged[n]
		h.logged[n] = true
		h.mu.Unlock()
		if !seen {
			h.run.LogArtifactKind("checkpoint", filepath.Join(h.o.Checkpoint.Dir(), n+checkpoint.JsonNameSuffix), "GoMLX checkpoint "+n)
		}
	}
}

// values names a step's metric tensors (GoMLX's metric names through name, in snake case),
// leaving out values that are not finite numbers.
func values(descs []metric.Interface, metrics []*tensors.Tensor, name func(string) string) map[string]float64 {
	out := map[string]float64{}
	for i, d := range descs {
		if i >= len(metrics) || metrics[i] == nil {
			break
		}
		v := shapes.ConvertTo[float64](metrics[i].Value())
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if k := MetricName(name(d.Name())); k != "" {
			out[k] = v
		}
	}
	return out
}

// MetricName turns a GoMLX metric name ("Train: Moving Average Loss", "Mean Loss on test")
// into a run's metric name: lower case, each run of characters outside [a-z0-9.] one '_'
// ("train_moving_average_loss", "mean_loss_on_test"); "" when nothing is left or it is
// longer than track.MaxMetricName.
func MetricName(name string) string {
	var b strings.Builder
	under := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
			under = false
			continue
		}
		under = true
	}
	s := b.String()
	if s == "" || len(s) > track.MaxMetricName || s[0] >= '0' && s[0] <= '9' {
		return ""
	}
	return s
}

// Params turns a model store's hyperparameters (path → value, as model.Store.IterParams
// yields them) into a run's params: "/learning_rate" is learning_rate, a scoped one keeps its
// scope ("model/hidden_units"); lists and other values are written as JSON.
func Params(params func(yield func(string, any) bool)) map[string]string {
	out := map[string]string{}
	for path, v := range params {
		out[paramKey(path)] = paramValue(v)
	}
	return out
}

func paramKey(path string) string {
	return strings.TrimPrefix(path, "/")
}

func paramValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return fmt.Sprint(v)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}
