package gomlxhook_test

import (
	"context"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ui/plot"

	"github.com/aelab/aelab/track"
	"github.com/aelab/aelab/track/gomlxhook"
	"github.com/aelab/aelab/tracker"
)

// linearData is a synthetic regression data set, y = x·w + b + noise, served in batches.
type linearData struct {
	name    string
	x, y    [][]float32
	batch   int
	batches int // per Iter (the training set loops over its rows)
}

func newLinearData(name string, n, batch, batches int, seed uint64) *linearData {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &linearData{name: name, batch: batch, batches: batches}
	for range n {
		x := []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
		y := 2*x[0] - 3*x[1] + 0.5*x[2] + 1 + float32(0.01*rng.NormFloat64())
		d.x, d.y = append(d.x, x), append(d.y, []float32{y})
	}
	return d
}

func (d *linearData) Name() string { return d.name }

func (d *linearData) Iter() iter.Seq2[train.Batch, error] {
	return func(yield func(train.Batch, error) bool) {
		for b := range d.batches {
			lo := (b * d.batch) % len(d.x)
			x, y := d.x[lo:lo+d.batch], d.y[lo:lo+d.batch]
			if !yield(train.Batch{Inputs: []*tensors.Tensor{tensors.MustFromAnyValue(x)},
				Labels: []*tensors.Tensor{tensors.MustFromAnyValue(y)}}, nil) {
				return
			}
		}
	}
}

// linearModel is one dense layer: x·w + b.
func linearModel(scope *model.Scope, _ any, inputs []*graph.Node) []*graph.Node {
	x := inputs[0]
	g := x.Graph()
	w := scope.VariableWithShape("w", shapes.Make(x.DType(), 3, 1)).NodeValue(g)
	b := scope.VariableWithShape("b", shapes.Make(x.DType(), 1)).NodeValue(g)
	y := graph.MatMul(x, w)
	return []*graph.Node{graph.Add(y, graph.ExpandLeftToRank(b, y.Rank()))}
}

// pointsPlotter hands GoMLX's plot collector's points to its own file writer
// (plot.CreatePointsWriter), as GoMLX's plotters do with a checkpoint.
type pointsPlotter struct{ w chan<- plot.Point }

func (p pointsPlotter) AddPoint(pt plot.Point) { p.w <- pt }
func (pointsPlotter) DynamicSampleDone(bool)   {}

// trainLinear trains the linear model for steps on the pure-Go backend with the hook
// attached to run, GoMLX's plot collector saving its points into ckptDir every 10 steps,
// and a checkpoint saved every 10 steps.
func trainLinear(t *testing.T, run *track.Run, ckptDir string, steps int) error {
	t.Helper()
	t.Setenv("GOMLX_BACKEND", "go")
	backend, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	var _ compute.Backend = backend
	store := model.NewStore()
	store.SetParams(map[string]any{optimizer.ParamLearningRate: 0.05, "hidden_note": "linear", model.ParamInitialSeed: int64(7)})
	ckpt, err := checkpoint.Build(store).Dir(ckptDir).Keep(-1).Done()
	if err != nil {
		t.Fatal(err)
	}
	trainer := train.NewTrainer(backend, store, linearModel, loss.MeanSquaredError, optimizer.Adam().Done(), nil, nil)
	loop := train.NewLoop(trainer)
	train.EveryNSteps(loop, 10, "checkpoint", 0, ckpt.SaveOnStepFn)

	trainDS := newLinearData("train", 256, 32, 1<<30, 1)
	testDS := newLinearData("test", 128, 64, 2, 2)
	writer, writeErr := plot.CreatePointsWriter(filepath.Join(ckptDir, plot.TrainingPlotFileName))
	train.EveryNSteps(loop, 10, "plot", 0, func(loop *train.Loop, metrics []*tensors.Tensor) error {
		return plot.AddTrainAndEvalMetrics(pointsPlotter{writer}, loop, metrics, []train.Dataset{testDS}, nil)
	})

	gomlxhook.Attach(loop, run, gomlxhook.Options{TrainEvery: 5, EvalEvery: 10, EvalDatasets: []train.Dataset{testDS},
		Checkpoint: ckpt, SystemEvery: -1})
	_, err = loop.RunSteps(trainDS, steps)
	close(writer)
	if werr := <-writeErr; werr != nil {
		t.Fatal(werr)
	}
	return err
}

func TestHookLogsTrainEvalParamsAndCheckpoints(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "aelab.db")
	run, err := track.Start(context.Background(), track.Options{DB: db, Experiment: "gomlx", Name: "linear", NoSignals: true})
	if err != nil {
		t.Fatal(err)
	}
	ckptDir := filepath.Join(dir, "ckpt")
	if err := run.End(trainLinear(t, run, ckptDir, 40)); err != nil {
		t.Fatal(err)
	}

	store, err := tracker.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, err := store.GetRun(run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != tracker.StatusFinished {
		t.Fatalf("status %s %q", rec.Status, rec.Error)
	}
	if rec.Params[optimizer.ParamLearningRate] != "0.05" || rec.Params["hidden_note"] != "linear" {
		t.Errorf("params %v, want the model store's learning_rate=0.05 and hidden_note=linear", rec.Params)
	}
	h, err := store.MetricHistories(run.ID())
	if err != nil {
		t.Fatal(err)
	}
	wantSteps := func(key string, steps ...int64) {
		t.Helper()
		var got []int64
		for _, p := range h[key] {
			got = append(got, p.Step)
		}
		if len(got) != len(steps) {
			t.Fatalf("%s logged at steps %v, want %v (keys %v)", key, got, steps, keysOf(h))
		}
		for i := range got {
			if got[i] != steps[i] {
				t.Fatalf("%s logged at steps %v, want %v", key, got, steps)
			}
		}
	}
	wantSteps("train_loss", 5, 10, 15, 20, 25, 30, 35, 40)
	wantSteps("train_moving_average_loss", 5, 10, 15, 20, 25, 30, 35, 40)
	wantSteps("mean_loss_on_test", 10, 20, 30, 40)
	eval := h["mean_loss_on_test"]
	if first, last := eval[0].Value, eval[len(eval)-1].Value; !(last < first) || math.IsNaN(last) {
		t.Errorf("test loss went %g → %g: the model did not learn, or the values are not the loop's", first, last)
	}
	var ckpts int
	for _, a := range rec.Artifacts {
		if a.Kind == "checkpoint" && strings.HasSuffix(a.Path, ".json") {
			ckpts++
		}
	}
	if ckpts != 4 { // saved at steps 10, 20, 30, 40
		t.Errorf("%d checkpoint artifacts, want 4: %v", ckpts, rec.Artifacts)
	}

	// The same training's points, as GoMLX's own collector saved them, imported: the same
	// metric names and values at the same steps as the hook logged.
	w, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := gomlxhook.Import(w, ckptDir, gomlxhook.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := w.GetRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if imported.Status != tracker.StatusFinished || imported.Experiment != "gomlx-import" || imported.Name != "ckpt" ||
		imported.Params[optimizer.ParamLearningRate] != "0.05" || res.Steps != 4 {
		t.Fatalf("imported run %+v, result %+v", imported, res)
	}
	ih, err := w.MetricHistories(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"train_moving_average_loss", "mean_loss_on_test"} {
		byStep := map[int64]float64{}
		for _, p := range h[key] {
			byStep[p.Step] = p.Value
		}
		if len(ih[key]) != 4 {
			t.Fatalf("imported %s: %v (keys %v)", key, ih[key], keysOf(ih))
		}
		for _, p := range ih[key] {
			if want, ok := byStep[p.Step]; !ok || math.Abs(p.Value-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("imported %s at step %d = %g, the hook logged %g", key, p.Step, p.Value, want)
			}
		}
	}
}

func TestHookStopsTheLoopWhenTheRunIsCancelled(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "aelab.db")
	ctx, cancel := context.WithCancel(context.Background())
	run, err := track.Start(ctx, track.Options{DB: db, NoSignals: true})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // an interrupt the program caught
	trainErr := trainLinear(t, run, filepath.Join(dir, "ckpt"), 40)
	if trainErr == nil || !strings.Contains(trainErr.Error(), "context canceled") {
		t.Fatalf("the loop ended with %v, want it stopped by the cancelled run", trainErr)
	}
	run.End(trainErr)
	store, err := tracker.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, _ := store.GetRun(run.ID())
	if rec.Status != tracker.StatusKilled {
		t.Errorf("status %s %q, want KILLED", rec.Status, rec.Error)
	}
}

func TestImportRefusesWhatIsNotACheckpointFolder(t *testing.T) {
	dir := t.TempDir()
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	linked := filepath.Join(dir, "linked")
	os.Mkdir(linked, 0o755)
	os.Symlink("/etc/passwd", filepath.Join(linked, plot.TrainingPlotFileName))
	garbage := filepath.Join(dir, "garbage")
	os.Mkdir(garbage, 0o755)
	os.WriteFile(filepath.Join(garbage, plot.TrainingPlotFileName), []byte(`{"MetricName":`), 0o644)
	for dir, want := range map[string]string{
		filepath.Join(dir, "nope"):     "no such file",
		empty:                          "no such file",
		linked:                         "not a regular file",
		garbage:                        "decoding",
		filepath.Join(dir, "aelab.db"): "not a folder",
	} {
		_, err := gomlxhook.Import(store, dir, gomlxhook.ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("import %s: %v, want one line saying %q", dir, err, want)
		}
	}
	if runs, _ := store.SearchRuns(tracker.Search{}); len(runs) != 0 {
		t.Errorf("refused imports recorded %d runs", len(runs))
	}
}

func TestMetricName(t *testing.T) {
	for in, want := range map[string]string{
		"Train: Moving Average Loss": "train_moving_average_loss",
		"Mean Loss on test":          "mean_loss_on_test",
		"Accuracy (no-reg)":          "accuracy_no_reg",
		"!!!":                        "",
		"9 lives":                    "",
		strings.Repeat("a", 101):     "",
	} {
		if got := gomlxhook.MetricName(in); got != want {
			t.Errorf("MetricName(%q) = %q, want %q", in, got, want)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
