package aelib

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/aelab/aelab/aelib/data"
)

// EpochMetrics is what one epoch of training measured. The JSON names are the names the
// experiments package logs them under (its metric schema).
type EpochMetrics struct {
	Epoch     int     `json:"epoch"` // 1-based
	Step      int64   `json:"step"`  // global training step at the end of the epoch
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_bce"` // BCE on the test split (Keras' val_loss)
	ValMSE    float64 `json:"val_mse"`
	ValMAE    float64 `json:"val_mae"`
	Seconds   float64 `json:"epoch_seconds"` // wall time of the epoch's training steps and validation
	// TrainSeconds is the wall time of the epoch's training steps alone (the first epoch's
	// includes compilation).
	TrainSeconds float64 `json:"epoch_train_seconds"`
}

// Observer receives training progress. An error it returns stops training with that error;
// ErrStopTraining (or an error wrapping it) ends training after this epoch as a success.
type Observer interface {
	EpochEnd(m EpochMetrics) error
}

// StepObserver is an Observer that also hears of every training step, for progress displays.
// The host-driven step engine (ONNX Runtime, the pure-Go backend) reports each step; the XLA
// device loop, which runs a whole epoch in one call, reports epochs only.
type StepObserver interface {
	Observer
	StepEnd(p StepProgress) error
}

// StepProgress is where training stands after a step.
type StepProgress struct {
	Epoch, Epochs int     // the epoch in progress (1-based), of how many
	Step, Steps   int     // steps done in this epoch, of how many
	Loss          float64 // mean training loss of the epoch so far
}

// stepReporter tells a run's step observers where training stands after each step; nil (no
// step observers) does nothing.
type stepReporter struct {
	observers          []StepObserver
	progress           StepProgress
	lossSum, weightSum float64
}

// newStepReporter is the step observers among opts.Observers for a run of epochs of steps each,
// or nil when there are none.
func newStepReporter(opts TrainOptions, epochs, steps int) *stepReporter {
	r := &stepReporter{progress: StepProgress{Epochs: epochs, Steps: steps}}
	observers := opts.Observers
	if opts.ProgressBar {
		observers = append(slices.Clip(observers), &progressLine{w: os.Stderr})
	}
	for _, o := range observers {
		if so, ok := o.(StepObserver); ok {
			r.observers = append(r.observers, so)
		}
	}
	if len(r.observers) == 0 {
		return nil
	}
	return r
}

// startEpoch begins counting the steps of epoch.
func (r *stepReporter) startEpoch(epoch int) {
	if r != nil {
		r.progress.Epoch, r.progress.Step, r.lossSum, r.weightSum = epoch, 0, 0, 0
	}
}

// step reports a step whose mean loss over weight real examples was loss.
func (r *stepReporter) step(loss, weight float64) error {
	if r == nil {
		return nil
	}
	r.lossSum += loss * weight
	r.weightSum += weight
	r.progress.Step++
	r.progress.Loss = r.lossSum / max(r.weightSum, 1)
	for _, o := range r.observers {
		if err := o.StepEnd(r.progress); err != nil {
			return fmt.Errorf("observer at step %d of epoch %d: %w", r.progress.Step, r.progress.Epoch, err)
		}
	}
	return nil
}

// progressLine is TrainOptions.ProgressBar: one line per epoch, rewritten in place at most
// every progressEvery while the epoch runs, finished when its last step is done.
type progressLine struct {
	w    io.Writer
	last time.Time
}

const progressEvery = 200 * time.Millisecond

func (p *progressLine) EpochEnd(EpochMetrics) error { return nil }

func (p *progressLine) StepEnd(s StepProgress) error {
	done := s.Step == s.Steps
	if !done && time.Since(p.last) < progressEvery {
		return nil
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\repoch %d/%d  step %d/%d  loss %.4f", s.Epoch, s.Epochs, s.Step, s.Steps, s.Loss)
	if done {
		fmt.Fprintln(p.w)
	}
	return nil
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(EpochMetrics) error

// EpochEnd calls f.
func (f ObserverFunc) EpochEnd(m EpochMetrics) error { return f(m) }

// ErrStopTraining, returned by an Observer, ends training after the epoch it observed without
// an error: early stopping.
var ErrStopTraining = errors.New("stop training")

// ErrNonFinite is returned (wrapped) when the training loss becomes NaN or infinite.
var ErrNonFinite = errors.New("loss is not finite")

// History is the outcome of Train.
type History struct {
	Epochs         []EpochMetrics `json:"epochs"`
	StepsPerEpoch  int            `json:"steps_per_epoch"`
	Seconds        float64        `json:"seconds"`         // whole training, compilation included
	CompileSeconds float64        `json:"compile_seconds"` // first step, mostly graph compilation
}

// SecondsPerEpoch is the mean wall time of the epochs after the first (which pays for
// compilation); with a single epoch, that epoch's time less the compilation.
func (h *History) SecondsPerEpoch() float64 {
	switch len(h.Epochs) {
	case 0:
		return 0
	case 1:
		return max(h.Epochs[0].Seconds-h.CompileSeconds, 0)
	}
	var sum float64
	for _, e := range h.Epochs[1:] {
		sum += e.Seconds
	}
	return sum / float64(len(h.Epochs)-1)
}

// TrainOptions are the knobs of Train beyond the Config.
type TrainOptions struct {
	Observers   []Observer
	ProgressBar bool      // a progress line per epoch on stderr, rewritten in place as the steps run
	Log         io.Writer // one line per epoch; nil for none
	// HostLoop runs the host-driven step with graph.Gradient for every layer, where Train
	// otherwise runs the device loop (XLA) or hand-written gradients (ONNX Runtime): the
	// reference, for comparisons (Autoencoder.Loop names the engine).
	HostLoop bool
	// StepGraph, when set, is where the host-driven step engine on ONNX Runtime writes the ONNX
	// model of its training step as it compiles it: the graph ONNX Runtime runs, for its own
	// profiler (see docs/performance.md). The device loop ignores it.
	StepGraph string
}

// Splits is the data a model trains and validates on: inputs and targets of both splits. For
// plain reconstruction inputs and targets are the same images; for denoising the inputs are noisy.
type Splits struct {
	TrainInputs, TrainTargets []float32
	TestInputs, TestTargets   []float32
	NTrain, NTest             int
}

// PrepareSplits cuts the data set to the config's subsets and adds the config's noise (seeded,
// once, as the course does) to the inputs.
func PrepareSplits(cfg Config, ds *data.Dataset) Splits {
	tr, te := ds.Train.Subset(cfg.TrainSubset), ds.Test.Subset(cfg.TestSubset)
	s := Splits{TrainInputs: tr.Images, TrainTargets: tr.Images, TestInputs: te.Images, TestTargets: te.Images, NTrain: tr.N, NTest: te.N}
	if cfg.Noise > 0 {
		s.TrainInputs = data.AddNoise(tr.Images, cfg.Noise, cfg.Seed)
		s.TestInputs = data.AddNoise(te.Images, cfg.Noise, cfg.Seed+1)
	}
	return s
}

// evaluator computes validation BCE, MSE and MAE on the backend, batch by batch, each batch
// padded to the batch size with rows weighted 0. Where the backend's buffers are host memory
// (ONNX Runtime on the CPU, the pure-Go backend) it streams: one batch's tensors, refilled in
// place for each batch, so validation holds no copy of the split. Otherwise (XLA) it builds every
// padded batch once per training run: the device keeps its copy of each after the first epoch,
// so later epochs send nothing to the device.
type evaluator struct {
	ae              *Autoencoder
	exec            *model.Exec
	inputs, targets []float32
	n, batch        int
	resident        bool                // every batch built once (device backends); otherwise one, refilled
	batches         [][]*tensors.Tensor // inputs [batch,784], targets [batch,784], weights [batch]: 1 real, 0 padding
}

type valMetrics struct{ bce, mse, mae float64 }

func newEvaluator(ae *Autoencoder, inputs, targets []float32, n, batch int) *evaluator {
	return newEvaluatorResident(ae, inputs, targets, n, batch, !ae.Backend.HasSharedBuffers())
}

// newEvaluatorResident is newEvaluator with the choice between building every batch once
// (resident) and streaming made by the caller.
func newEvaluatorResident(ae *Autoencoder, inputs, targets []float32, n, batch int, resident bool) *evaluator {
	batch = max(min(batch, n), 1) // padding beyond the split would only cost memory
	e := &evaluator{ae: ae, inputs: inputs, targets: targets, n: n, batch: batch, resident: resident}
	if !resident {
		x := tensors.FromShape(shapes.Make(dtypes.Float32, batch, data.Pixels))
		target := x // plain reconstruction: the targets are the inputs, filled once
		if !e.sameTargets() {
			target = tensors.FromShape(shapes.Make(dtypes.Float32, batch, data.Pixels))
		}
		e.batches = [][]*tensors.Tensor{{x, target, tensors.FromShape(shapes.Make(dtypes.Float32, batch))}}
		return e
	}
	for start := 0; start < n; start += batch {
		x := tensors.FromShape(shapes.Make(dtypes.Float32, batch, data.Pixels))
		target := x
		if !e.sameTargets() {
			target = tensors.FromShape(shapes.Make(dtypes.Float32, batch, data.Pixels))
		}
		b := []*tensors.Tensor{x, target, tensors.FromShape(shapes.Make(dtypes.Float32, batch))}
		e.fill(b, start)
		e.batches = append(e.batches, b)
	}
	return e
}

// sameTargets reports whether the targets are the inputs themselves (no noise).
func (e *evaluator) sameTargets() bool {
	return len(e.inputs) > 0 && len(e.targets) > 0 && &e.inputs[0] == &e.targets[0]
}

// fill writes the batch of the examples from start into b (in place: on a backend with host
// buffers they are the runtime's own), zero-padding past the split and weighting the padding 0.
func (e *evaluator) fill(b []*tensors.Tensor, start int) {
	end := min(start+e.batch, e.n)
	rows := func(t *tensors.Tensor, from []float32) {
		tensors.MustMutableFlatData(t, func(flat []float32) {
			k := copy(flat, from[start*data.Pixels:end*data.Pixels])
			clear(flat[k:])
		})
	}
	rows(b[0], e.inputs)
	if b[1] != b[0] {
		rows(b[1], e.targets)
	}
	tensors.MustMutableFlatData(b[2], func(flat []float32) {
		for i := range flat {
			flat[i] = 0
			if i < end-start {
				flat[i] = 1
			}
		}
	})
}

// close frees the validation graph and the batches' buffers (ONNX Runtime's are outside Go's
// heap: nothing else frees them).
func (e *evaluator) close() {
	if e.exec != nil {
		e.exec.Finalize()
		e.exec = nil
	}
	for _, b := range e.batches {
		b[0].FinalizeAll()
		if b[1] != b[0] {
			b[1].FinalizeAll()
		}
		b[2].FinalizeAll()
	}
	e.batches = nil
}

func (e *evaluator) run() (v valMetrics, err error) {
	defer recoverGraphPanic(&err)
	if e.exec == nil {
		e.exec, err = model.NewExec(e.ae.Backend, e.ae.store, func(scope *model.Scope, x, target, w *Node) (*Node, *Node, *Node) {
			logits := e.ae.Arch.Logits(e.ae.scope(), x)
			bce := bcePerPixel(logits, target)
			diff := Sub(Sigmoid(logits), target)
			w = ExpandAxes(w, -1)
			return ReduceAllSum(Mul(bce, w)), ReduceAllSum(Mul(Square(diff), w)), ReduceAllSum(Mul(Abs(diff), w))
		})
		if err != nil {
			return v, err
		}
	}
	var sums [3]float64
	for i, start := 0, 0; start < e.n; i, start = i+1, start+e.batch {
		b := e.batches[0]
		if e.resident {
			b = e.batches[i]
		} else {
			e.fill(b, start)
		}
		out, err := e.exec.Call(b[0], b[1], b[2])
		if err != nil {
			return v, fmt.Errorf("aelib: validation: %w", err)
		}
		for k := range sums {
			sums[k] += float64(tensors.MustCopyFlatData[float32](out[k])[0])
			out[k].FinalizeAll()
		}
	}
	count := float64(e.n * data.Pixels)
	return valMetrics{bce: sums[0] / count, mse: sums[1] / count, mae: sums[2] / count}, nil
}

// trainingHeapHeadroom is how far the Go heap may grow past its live data during training
// before the collector runs. Go's default (GOGC=100) lets it grow by as much again as is live:
// with a data set of hundreds of MB held for training, as much again of garbage before a
// collection, all of it resident. The data are pointer-free float32 slices, so a collection
// scans little and costs little, however much is live.
const trainingHeapHeadroom = 64 << 20

// heapGrowth is the collector setting limitHeapGrowth saved, and how many trainings hold it.
var heapGrowth struct {
	sync.Mutex
	active int
	saved  int
}

// limitHeapGrowth sets the collector's target (debug.SetGCPercent), while a training runs, to
// trainingHeapHeadroom past the live heap, never above the setting it finds; it returns the
// function that restores that setting. Trainings running at the same time share the setting:
// the first sets it, the last restores it.
func limitHeapGrowth() (restore func()) {
	heapGrowth.Lock()
	defer heapGrowth.Unlock()
	heapGrowth.active++
	if heapGrowth.active == 1 {
		runtime.GC() // the live heap now, the training's data included
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		var live uint64
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 {
			live = v.Uint64()
		}
		percent := headroomPercent(live)
		heapGrowth.saved = debug.SetGCPercent(percent)
		if heapGrowth.saved < 0 || heapGrowth.saved < percent { // collection off, or already tighter
			debug.SetGCPercent(heapGrowth.saved)
		}
	}
	return func() {
		heapGrowth.Lock()
		defer heapGrowth.Unlock()
		heapGrowth.active--
		if heapGrowth.active == 0 {
			debug.SetGCPercent(heapGrowth.saved)
		}
	}
}

// headroomPercent is the GC percent that lets a heap of live bytes grow by
// trainingHeapHeadroom, at least 10 (a collection every tenth of the live heap at most); 100,
// Go's default, when the live heap is not known.
func headroomPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(max(10, trainingHeapHeadroom*100/live))
}

// arenaShrinker is a backend whose CPU sessions share one memory arena (aelab's patched ONNX
// Runtime backend, third_party/README.md).
type arenaShrinker interface{ ShrinkSharedCPUArena() error }

// shrinkArena frees what the arena a finished training's sessions shared holds beyond what
// sessions still open use, so that the next training in this process (another model of a
// benchmark, a sweep's next trial) does not inherit its working set: an arena otherwise keeps
// the largest it ever served.
func shrinkArena(b any) {
	if r, ok := b.(arenaShrinker); ok {
		_ = r.ShrinkSharedCPUArena() // memory only: no result depends on it
	}
}
