package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
)

func init() {
	register(command{name: "bench", summary: "time training: seconds per epoch, steps/s, compile time, peak memory", run: runBench})
}

// benchResult is one model's measurement.
type benchResult struct {
	Model          string  `json:"model"`
	Backend        string  `json:"backend"` // aelib's name for it: go, onnx, xla-cuda, or the config
	BackendConfig  string  `json:"backend_config"`
	Device         string  `json:"device"`
	Loop           string  `json:"loop"` // device (whole epoch per call, XLA) or host (train.Trainer, one call per step)
	BatchSize      int     `json:"batch_size"`
	TrainExamples  int     `json:"train_examples"` // of the run (a subset with --steps)
	Epochs         int     `json:"epochs"`
	StepsPerEpoch  int     `json:"steps_per_epoch"`
	TimedSteps     int     `json:"timed_steps"`      // steps behind the timing (compilation epoch excluded)
	FullEpochSteps int     `json:"full_epoch_steps"` // steps of one epoch over the whole training split
	Extrapolated   bool    `json:"extrapolated"`     // seconds_per_epoch scaled from a subset (--steps)
	SecPerEpoch    float64 `json:"seconds_per_epoch"`
	StepsPerSec    float64 `json:"steps_per_second"`
	SamplesPerSec  float64 `json:"samples_per_second"`
	CompileSec     float64 `json:"compile_seconds"`
	ValSecPerEpoch float64 `json:"validation_seconds_per_epoch"`
	TotalSec       float64 `json:"total_seconds"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"` // the process's peak so far (Getrusage MaxRSS)
	FinalLoss      float64 `json:"final_loss"`
	FinalValLoss   float64 `json:"final_val_loss"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	modelFlag := fs.String("model", "all", "model to time ("+strings.Join(aelib.Models(), ", ")+") or all (vanilla, deep, denoise)")
	epochs := fs.Int("epochs", 0, "full epochs to run (default 3); the first, which compiles, is not timed")
	steps := fs.Int("steps", 0, "instead of full epochs: two epochs of N steps on N×batch images, the second timed, extrapolated to a full epoch")
	backend := fs.String("backend", "", "GoMLX backend config, e.g. go, onnx:cpu, xla:/path/xla_cuda_plugin.so (default: picked for this machine)")
	loop := fs.String("loop", "auto", "training loop: auto (whole epochs on the device on XLA), host (train.Trainer, one call per step), both")
	batch := fs.Int("batch", 0, "batch size (default: the model's)")
	testSubset := fs.Int("test-subset", 0, "validate on the first N test images (default all; 1000 with --steps)")
	dataset := fs.String("dataset", "mnist", "data set: mnist or fashion")
	seed := fs.Uint64("seed", 42, "random seed")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	switch {
	case *epochs != 0 && *steps != 0:
		return usagef("--epochs and --steps exclude each other")
	case *epochs < 0 || *steps < 0 || *batch < 0 || *testSubset < 0:
		return usagef("--epochs, --steps, --batch and --test-subset must be >= 0")
	case *dataset != "mnist" && *dataset != "fashion":
		return usagef("unknown --dataset %q (known: mnist, fashion)", *dataset)
	case !slices.Contains([]string{"auto", "host", "both"}, *loop):
		return usagef("unknown --loop %q (known: auto, host, both)", *loop)
	}
	if *epochs == 0 && *steps == 0 {
		*epochs = 3
	}
	models := []string{*modelFlag}
	if *modelFlag == "all" {
		models = []string{aelib.ModelVanilla, aelib.ModelDeep, aelib.ModelDenoise}
	}
	var cfgs []aelib.Config
	for _, m := range models {
		cfg, err := aelib.DefaultConfig(m)
		if err != nil {
			return usageError{err}
		}
		cfg.Dataset, cfg.Seed, cfg.Backend = *dataset, *seed, *backend
		if *batch > 0 {
			cfg.BatchSize = *batch
		}
		cfg.Epochs, cfg.TestSubset = *epochs, *testSubset
		if *steps > 0 {
			cfg.Epochs, cfg.TrainSubset = 2, *steps*cfg.BatchSize
			if cfg.TestSubset == 0 {
				cfg.TestSubset = 1000
			}
		}
		if err := cfg.Validate(); err != nil {
			return usageError{err}
		}
		cfgs = append(cfgs, cfg)
	}
	ds, err := data.Load(*dataset)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var results []benchResult
	for _, cfg := range cfgs {
		for _, host := range loopsFor(*loop) {
			r, err := benchOne(ctx, cfg, ds, host, *loop == "both", *steps > 0, stderr)
			if err != nil {
				return fmt.Errorf("%s: %w", cfg.Model, err)
			}
			if r == nil { // the device loop does not apply here: auto covers it
				continue
			}
			results = append(results, *r)
			if !*asJSON {
				printBench(stdout, *r)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	return nil
}

// loopsFor lists the runs a --loop value asks for: false is auto (the device loop where it
// applies), true the host loop.
func loopsFor(loop string) []bool {
	switch loop {
	case "host":
		return []bool{true}
	case "both":
		return []bool{false, true}
	}
	return []bool{false}
}

// benchOne trains one config and measures it. With both loops asked for, the host run of a
// model that has no device loop would repeat the auto run: it returns nil then.
func benchOne(ctx context.Context, cfg aelib.Config, ds *data.Dataset, hostLoop, both, extrapolate bool, log io.Writer) (*benchResult, error) {
	ae, err := aelib.New(cfg)
	if err != nil {
		return nil, err
	}
	device := ae.UsesDeviceLoop() && !hostLoop
	if hostLoop && both && !ae.UsesDeviceLoop() {
		return nil, nil // the auto run was already the host loop
	}
	s := aelib.PrepareSplits(cfg, ds)
	fmt.Fprintf(log, "bench %s on %s (%s), %d training images, %d epochs, loop %s\n",
		cfg.Model, ae.Choice.Name, aelib.Device(ae.Backend), s.NTrain, cfg.Epochs, loopName(device))
	hist, err := ae.Train(ctx, s, aelib.TrainOptions{HostLoop: hostLoop, Log: log})
	if err != nil {
		return nil, err
	}
	r := &benchResult{Model: cfg.Model, Backend: ae.Choice.Name, BackendConfig: ae.Choice.Config,
		Device: aelib.Device(ae.Backend), Loop: loopName(device), BatchSize: cfg.BatchSize,
		TrainExamples: s.NTrain, Epochs: len(hist.Epochs), StepsPerEpoch: hist.StepsPerEpoch,
		CompileSec: hist.CompileSeconds, TotalSec: hist.Seconds, PeakRSSMiB: peakRSSMiB()}
	fullN := ds.Train.N
	r.FullEpochSteps = (fullN + cfg.BatchSize - 1) / cfg.BatchSize
	if n := len(hist.Epochs); n > 0 {
		last := hist.Epochs[n-1]
		r.FinalLoss, r.FinalValLoss = last.TrainLoss, last.ValLoss
	}
	// Training time of the epochs after the first (which compiles); with one epoch, that epoch
	// less the compilation.
	var trainSec, valSec float64
	timed := hist.Epochs
	if len(timed) > 1 {
		timed = timed[1:]
		for _, e := range timed {
			trainSec += e.TrainSeconds
			valSec += e.Seconds - e.TrainSeconds
		}
	} else if len(timed) == 1 {
		trainSec = max(timed[0].TrainSeconds-hist.CompileSeconds, 0)
		valSec = timed[0].Seconds - timed[0].TrainSeconds
	}
	if len(timed) > 0 && trainSec > 0 {
		r.TimedSteps = len(timed) * hist.StepsPerEpoch
		perStep := trainSec / float64(r.TimedSteps)
		r.StepsPerSec = 1 / perStep
		r.SamplesPerSec = float64(len(timed)*s.NTrain) / trainSec
		r.SecPerEpoch = perStep * float64(r.FullEpochSteps)
		r.Extrapolated = extrapolate || s.NTrain != fullN
		r.ValSecPerEpoch = valSec / float64(len(timed))
	}
	return r, nil
}

func loopName(device bool) string {
	if device {
		return "device"
	}
	return "host"
}

func printBench(w io.Writer, r benchResult) {
	approx := ""
	if r.Extrapolated {
		approx = " (extrapolated)"
	}
	fmt.Fprintf(w, "%-8s %s on %s, loop %s: %.4f s/epoch%s, %.1f steps/s, %.0f samples/s, compile %.2f s, validation %.2f s/epoch, peak RSS %.0f MiB, final loss %.4f, val %.4f\n",
		r.Model, r.Backend, r.Device, r.Loop, r.SecPerEpoch, approx, r.StepsPerSec, r.SamplesPerSec, r.CompileSec,
		r.ValSecPerEpoch, r.PeakRSSMiB, r.FinalLoss, r.FinalValLoss)
}

// peakRSSMiB is the process's peak resident memory so far.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}
