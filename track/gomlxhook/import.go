package gomlxhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ui/plot"

	"github.com/aelab/aelab/tracker"
)

// Limits on what Import reads: a checkpoint folder is untrusted input.
const (
	MaxPointsFileBytes     = 256 << 20 // training_plot_points.json
	MaxCheckpointJSONBytes = 64 << 20  // a checkpoint's .json (its params and variable index)
	maxParams              = 10_000
	maxParamValue          = 4096 // characters of one param's value
)

// ImportOptions say where an imported history goes.
type ImportOptions struct {
	Experiment string // "gomlx-import" when empty
	Name       string // the folder's name when empty
}

// ImportResult says what Import recorded.
type ImportResult struct {
	RunID   string
	Points  int // metric values logged
	Skipped int // points not logged: a step or value that is not a finite number, a name with nothing left
	Steps   int
	Params  int
	From    string // the checkpoint whose params were read ("" when none)
}

// Import reads a GoMLX checkpoint folder's training history — the points GoMLX's plot
// collector saved in training_plot_points.json (plot.TrainingPlotFileName) — and the
// hyperparameters of its latest checkpoint, and records them as a new FINISHED run of store.
// Metric names follow MetricName, as the hook's do. It reads the folder and writes nothing
// there; a folder without the points file, or a points file that is not a regular file, is
// refused.
func Import(store *tracker.Store, dir string, o ImportOptions) (*ImportResult, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("import gomlx: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("import gomlx: %s is not a folder (give a GoMLX checkpoint folder)", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("import gomlx: %w", err)
	}
	pointsFile := filepath.Join(abs, plot.TrainingPlotFileName)
	if err := regularFile(pointsFile, MaxPointsFileBytes); err != nil {
		return nil, fmt.Errorf("import gomlx: %w", err)
	}
	points, err := plot.LoadPoints(pointsFile)
	if err != nil {
		return nil, fmt.Errorf("import gomlx: %s: %w", plot.TrainingPlotFileName, err)
	}
	res := &ImportResult{}
	byStep := map[int64]map[string]float64{}
	for _, p := range points {
		name := MetricName(p.MetricName)
		if name == "" || math.IsNaN(p.Value) || math.IsInf(p.Value, 0) ||
			p.Step < 0 || p.Step > 1<<53 || p.Step != math.Trunc(p.Step) {
			res.Skipped++
			continue
		}
		step := int64(p.Step)
		if byStep[step] == nil {
			byStep[step] = map[string]float64{}
		}
		byStep[step][name] = p.Value
	}
	if len(byStep) == 0 {
		return nil, fmt.Errorf("import gomlx: %s has no points to import (%d skipped)", plot.TrainingPlotFileName, res.Skipped)
	}
	params, from, err := checkpointParams(abs)
	if err != nil {
		return nil, fmt.Errorf("import gomlx: %w", err)
	}
	res.From = from
	if o.Experiment == "" {
		o.Experiment = "gomlx-import"
	}
	if o.Name == "" {
		o.Name = filepath.Base(abs)
	}
	run, err := store.StartRun(tracker.RunSpec{Experiment: o.Experiment, Name: o.Name, Source: "aelab import gomlx",
		Params: params, Tags: map[string]string{"import.from": "gomlx", "import.dir": abs, "import.checkpoint": from}})
	if err != nil {
		return nil, fmt.Errorf("import gomlx: %w", err)
	}
	res.RunID, res.Params = run.ID(), len(params)
	var logErr error
	steps := make([]int64, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	for _, s := range steps {
		if logErr = run.LogMetrics(byStep[s], s, 0); logErr != nil {
			break
		}
		res.Points += len(byStep[s])
		res.Steps++
	}
	if logErr != nil {
		err := run.Fail(fmt.Errorf("import stopped at step %d: %w", steps[res.Steps], logErr))
		return res, errors.Join(fmt.Errorf("import gomlx: %w", logErr), err)
	}
	if err := run.Finish(tracker.StatusFinished, ""); err != nil {
		return res, fmt.Errorf("import gomlx: %w", err)
	}
	return res, nil
}

// regularFile checks that path is a regular file (not a link, a folder or a device) of at
// most limit bytes.
func regularFile(path string, limit int64) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Size() > limit {
		return fmt.Errorf("%s is %d bytes, more than the %d read", path, fi.Size(), limit)
	}
	return nil
}

// checkpointParams reads the hyperparameters GoMLX stored with the folder's latest
// checkpoint (its .json file's Params), and names the checkpoint; none is no error.
func checkpointParams(dir string) (map[string]string, string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", err
	}
	var latest string
	for _, e := range entries { // GoMLX's names sort in the order they were saved
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, "checkpoint-") && strings.HasSuffix(n, checkpoint.JsonNameSuffix) && n > latest {
			latest = n
		}
	}
	if latest == "" {
		return nil, "", nil
	}
	path := filepath.Join(dir, latest)
	if err := regularFile(path, MaxCheckpointJSONBytes); err != nil {
		return nil, "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	var saved struct {
		Params []struct {
			Scope, Key string
			Value      any
		}
	}
	if err := json.NewDecoder(io.LimitReader(f, MaxCheckpointJSONBytes)).Decode(&saved); err != nil {
		return nil, "", fmt.Errorf("%s: %w", latest, err)
	}
	if len(saved.Params) > maxParams {
		return nil, "", fmt.Errorf("%s: %d params, more than the %d read", latest, len(saved.Params), maxParams)
	}
	params := map[string]string{}
	for _, p := range saved.Params {
		key := strings.TrimPrefix(strings.TrimSuffix(p.Scope, "/")+"/"+p.Key, "/")
		v := paramValue(p.Value)
		if p.Key == "" || len(key) > 250 || len(v) > maxParamValue {
			continue
		}
		params[key] = v
	}
	return params, strings.TrimSuffix(latest, checkpoint.JsonNameSuffix), nil
}
