package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/bench"
	"github.com/aelab/aelab/experiments"
)

// benchResult is one model's measurement.
type benchResult struct {
	Model          string  `json:"model"`
	Backend        string  `json:"backend"` // aelib's name for it: go, onnx, xla-cuda, or the config
	BackendConfig  string  `json:"backend_config"`
	Device         string  `json:"device"`
	Loop           string  `json:"loop"` // device (whole epoch per call, XLA), step (aelib's step graph) or host (the host-driven step with graph.Gradient alone, the reference)
	BatchSize      int     `json:"batch_size"`
	TrainExamples  int     `json:"train_examples"` // of the run (a subset with --steps)
	Epochs         int     `json:"epochs"`
	StepsPerEpoch  int     `json:"steps_per_epoch"`
	TimedSteps     int     `json:"timed_steps"`       // steps behind the timing (compilation epoch excluded)
	FullEpochSteps int     `json:"full_epoch_steps"`  // steps of one epoch over the whole training split
	Extrapolated   bool    `json:"extrapolated"`      // seconds_per_epoch scaled from a subset (--steps)
	SecPerEpoch    float64 `json:"seconds_per_epoch"` // the median of EpochSeconds
	// EpochSeconds are the timed epochs' training seconds, each scaled to a full epoch: the
	// rounds a side-by-side compares one by one.
	EpochSeconds   []float64 `json:"epoch_seconds"`
	StepsPerSec    float64   `json:"steps_per_second"`
	SamplesPerSec  float64   `json:"samples_per_second"`
	CompileSec     float64   `json:"compile_seconds"`
	ValSecPerEpoch float64   `json:"validation_seconds_per_epoch"`
	TotalSec       float64   `json:"total_seconds"`
	PeakRSSMiB     float64   `json:"peak_rss_mib"` // the process's peak while training this model (VmHWM)
	// RSSMiB is the process's resident memory at the end of each epoch: steady after the
	// first, unless something leaks.
	RSSMiB       []float64   `json:"rss_mib"`
	FinalLoss    float64     `json:"final_loss"`
	FinalValLoss float64     `json:"final_val_loss"`
	Peer         *peerResult `json:"peer,omitempty"` // the same model trained by the peer, epochs interleaved
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	modelFlag := fs.String("model", "all", "model to time ("+strings.Join(aelib.Models(), ", ")+") or all (vanilla, deep, denoise)")
	steps := fs.Int("steps", 0, "instead of full epochs: two epochs of N steps on N×batch images, the second timed, extrapolated to a full epoch")
	loop := fs.String("loop", "auto", "training loop: auto (whole epochs on the device on XLA, aelib's step graph on ONNX Runtime), host (the host-driven step with graph.Gradient alone), both")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	peerName := fs.String("peer", "", "also train each model with a reference implementation, one of its epochs after each of aelab's, and compare: pytorch (Debian's python3-torch; its runs are logged in --db)")
	python := fs.String("python", bench.DefaultPython, "with --peer pytorch: the Python that has PyTorch")
	course := fs.Bool("course", false, "train each model for the course's epochs (vanilla 10, deep 50, denoise 10)")
	rounds := fs.Int("rounds", 3, "with --peer: timed rounds, each one epoch of aelab's and one of the peer's, reported as their median and range (the run has rounds+1 epochs: the first compiles); with --check-peer: runs of each script")
	checkPeer := fs.Bool("check-peer", false, "instead of timing aelab: check the PyTorch reference against a plain PyTorch script of the same model, each run on its own, alternately, --rounds times")
	db := storeFlag(fs)
	graphs := fs.String("onnx-graph", "", "write each model's training step, as ONNX Runtime runs it, to `folder`/<model>-step.onnx (for bench/ort_profile.mjs)")
	cf := experiments.NewConfigFlags()
	cf.RegisterSettings(fs) // --epochs (default here 3; the first, which compiles, is not timed), --batch, --backend, …
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	switch {
	case *course && (cf.IsSet("epochs") || *steps != 0):
		return usagef("--course excludes --epochs and --steps")
	case *rounds < 1:
		return usagef("--rounds must be at least 1")
	case *steps != 0 && *rounds != 3:
		return usagef("--steps times one round (two epochs, the second timed): drop --rounds or use --subset")
	case *checkPeer && (*peerName != "" && *peerName != bench.PeerPyTorch):
		return usagef("--check-peer checks the %s reference: drop --peer %s", bench.PeerPyTorch, *peerName)
	case *checkPeer && (*steps != 0 || *course || *loop != "auto" || *graphs != "" || *asJSON):
		return usagef("--check-peer runs the PyTorch scripts alone: it takes --model, --rounds, --epochs, --subset and --python")
	case *peerName != "" && *peerName != bench.PeerPyTorch:
		return usagef("unknown --peer %q (known: %s)", *peerName, bench.PeerPyTorch)
	case *peerName != "" && *loop == "both":
		return usagef("--peer compares one loop: use --loop auto or host")
	case cf.IsSet("epochs") && *steps != 0:
		return usagef("--epochs and --steps exclude each other")
	case cf.IsSet("subset") && *steps != 0:
		return usagef("--subset and --steps exclude each other")
	case *steps < 0:
		return usagef("--steps must be >= 0")
	case !slices.Contains([]string{"auto", "host", "both"}, *loop):
		return usagef("unknown --loop %q (known: auto, host, both)", *loop)
	}
	models := []string{*modelFlag}
	if *modelFlag == "all" {
		models = nil
		for _, p := range experiments.Presets() {
			models = append(models, p.Name)
		}
	}
	for _, m := range models {
		if (*peerName != "" || *checkPeer) && !slices.Contains(peerModels, m) {
			return usagef("the PyTorch reference has no %s model (it has %s)", m, strings.Join(peerModels, ", "))
		}
	}
	var cfgs []aelib.Config
	for _, m := range models {
		cfg, err := cf.ConfigFor(m, false)
		if err != nil {
			return usageError{err}
		}
		if err := cfg.CheckMemory(); err != nil { // before anything is built or stored
			return usageError{err}
		}
		switch {
		case *course || cf.IsSet("epochs"):
		case *peerName != "":
			cfg.Epochs = *rounds + 1
		default:
			cfg.Epochs = 3
		}
		if *steps > 0 {
			cfg.Epochs, cfg.TrainSubset = 2, *steps*cfg.BatchSize
			if !cf.IsSet("test-subset") {
				cfg.TestSubset = 1000
			}
		}
		cfgs = append(cfgs, cfg)
	}
	if *checkPeer {
		return runPeerCheck(cfgs, *rounds, *python, stdout, stderr)
	}
	var peer *peerSetup
	if *peerName != "" { // after the flags are checked: a usage error creates no store
		store, err := openStore(*db)
		if err != nil {
			return err
		}
		defer store.Close()
		peer = &peerSetup{store: store, python: *python, log: stderr}
	}
	dataset := cfgs[0].Dataset
	ds, err := data.Load(dataset)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	machine, loadBefore := bench.Machine(), bench.LoadAverage()
	var results []benchResult
	for _, cfg := range cfgs {
		for _, host := range loopsFor(*loop) {
			r, err := benchOne(ctx, cfg, ds, host, *loop == "both", *steps > 0, peer, *graphs, stderr)
			if err != nil {
				if peer != nil && !*asJSON && len(results) > 0 { // what was measured before the failure
					printPeerTable(stdout, results, machine, loadBefore, bench.LoadAverage())
				}
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
		return writeJSON(stdout, results)
	}
	if peer != nil {
		printPeerTable(stdout, results, machine, loadBefore, bench.LoadAverage())
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
// With a peer, the peer trains the same model on the same splits, one of its epochs after each
// of aelab's, and its run is logged in the store.
// With graphDir set, the step trainer writes its graph there.
func benchOne(ctx context.Context, cfg aelib.Config, ds *data.Dataset, hostLoop, both, extrapolate bool, peer *peerSetup, graphDir string, log io.Writer) (r *benchResult, err error) {
	ae, err := aelib.New(cfg)
	if err != nil {
		return nil, err
	}
	loop := ae.Loop(aelib.TrainOptions{HostLoop: hostLoop})
	if hostLoop && both && ae.Loop(aelib.TrainOptions{}) == "host" {
		return nil, nil // the auto run was already the host loop
	}
	s := aelib.PrepareSplits(cfg, ds)
	fmt.Fprintf(log, "bench %s on %s (%s), %d training images, %d epochs, loop %s\n",
		cfg.Model, ae.Choice.Name, aelib.Device(ae.Backend), s.NTrain, cfg.Epochs, loop)
	// Each model's own peak: drop what earlier models left, then restart the high-water mark.
	debug.FreeOSMemory()
	bench.ResetPeakRSS()
	var rss []float64
	observers := []aelib.Observer{aelib.ObserverFunc(func(aelib.EpochMetrics) error {
		now, _ := bench.RSS()
		rss = append(rss, now)
		return nil
	})}
	var side *peerSide
	if peer != nil {
		if side, err = peer.start(ctx, cfg, s); err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, side.close(ctx, err)) }()
		observers = append(observers, side)
	}
	opts := aelib.TrainOptions{HostLoop: hostLoop, Log: log, Observers: observers}
	if graphDir != "" {
		if err := os.MkdirAll(graphDir, 0o755); err != nil {
			return nil, err
		}
		opts.StepGraph = filepath.Join(graphDir, cfg.Model+"-step.onnx")
	}
	hist, err := ae.Train(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	_, peak := bench.RSS()
	r = &benchResult{Model: cfg.Model, Backend: ae.Choice.Name, BackendConfig: ae.Choice.Config,
		Device: aelib.Device(ae.Backend), Loop: loop, BatchSize: cfg.BatchSize,
		TrainExamples: s.NTrain, Epochs: len(hist.Epochs), StepsPerEpoch: hist.StepsPerEpoch,
		CompileSec: hist.CompileSeconds, TotalSec: hist.Seconds, PeakRSSMiB: peak, RSSMiB: rss}
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
		r.Extrapolated = extrapolate || s.NTrain != fullN
		r.ValSecPerEpoch = valSec / float64(len(timed))
		if len(timed) == 1 {
			r.EpochSeconds = []float64{perStep * float64(r.FullEpochSteps)}
		} else {
			for _, e := range timed {
				r.EpochSeconds = append(r.EpochSeconds, e.TrainSeconds/float64(hist.StepsPerEpoch)*float64(r.FullEpochSteps))
			}
		}
		r.SecPerEpoch = bench.SpreadOf(r.EpochSeconds).Median
	}
	if side != nil {
		if r.Peer, err = side.finish(s, ds.Test.Subset(cfg.TestSubset).Labels, cfg.Noise > 0, r.FullEpochSteps); err != nil {
			return nil, err
		}
		r.Peer.Ratios = bench.Ratios(r.EpochSeconds, r.Peer.EpochSeconds)
		r.Peer.Ratio = bench.SpreadOf(r.Peer.Ratios).Median
	}
	return r, nil
}

func printBench(w io.Writer, r benchResult) {
	approx := ""
	if r.Extrapolated {
		approx = " (extrapolated)"
	}
	fmt.Fprintf(w, "%-8s %s on %s, loop %s: %.4f s/epoch%s, %.1f steps/s, %.0f samples/s, compile %.2f s, validation %.2f s/epoch, peak RSS %.0f MiB, final loss %.4f, val %.4f\n",
		r.Model, r.Backend, r.Device, r.Loop, r.SecPerEpoch, approx, r.StepsPerSec, r.SamplesPerSec, r.CompileSec,
		r.ValSecPerEpoch, r.PeakRSSMiB, r.FinalLoss, r.FinalValLoss)
	if p := r.Peer; p != nil {
		fmt.Fprintf(w, "%-8s %s (%s): %.4f s/epoch, aelab/%s %.2f, peak RSS %.0f MiB, final loss %.4f, val %.4f, test MSE %.5f, run %s\n",
			"", p.Name, p.Info, p.SecPerEpoch, p.Name, p.Ratio, p.PeakRSSMiB, p.FinalLoss, p.FinalValLoss, p.TestMSE, shortID(p.RunID))
	}
}
