package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

func init() {
	register(command{name: "train", summary: "train a model (vanilla, deep, denoise, …) and log the run", run: runTrain})
	register(command{name: "summary", summary: "print a model's Keras-style summary", run: runSummary})
}

// trainFlags are the flags that build an aelib.Config, shared by train and bench.
type trainFlags struct {
	model, dataset, backend string
	epochs, batch, subset   int
	testSubset              int
	lr, noise               float64
	seed                    uint64
	quick                   bool

	// Beyond the course: -1 (or "") keeps the model's default.
	penalty           string
	rho, lambda, beta float64
	latent            int
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", aelib.ModelVanilla, "model: "+strings.Join(aelib.Models(), ", "))
	fs.StringVar(&f.dataset, "dataset", "", "data set: mnist or fashion (default mnist)")
	fs.StringVar(&f.backend, "backend", "", "GoMLX backend config, e.g. go, onnx:cpu (default: picked for this machine)")
	fs.IntVar(&f.epochs, "epochs", -1, "epochs (default: the course's: vanilla 10, deep 50, denoise 10)")
	fs.IntVar(&f.batch, "batch", 0, "batch size (default: 256 dense, 128 conv)")
	fs.IntVar(&f.subset, "subset", 0, "train on the first N training images (default all)")
	fs.IntVar(&f.testSubset, "test-subset", 0, "validate on the first N test images (default all)")
	fs.Float64Var(&f.lr, "lr", 0, "Adam learning rate (default 1e-3)")
	fs.Float64Var(&f.noise, "noise", -1, "Gaussian noise factor on the inputs (default: denoise 0.5, others 0)")
	fs.Uint64Var(&f.seed, "seed", 42, "random seed (weights, shuffling, noise)")
	fs.BoolVar(&f.quick, "quick", false, "a short demo: few epochs, and a data subset for the conv model")
	fs.StringVar(&f.penalty, "penalty", "", "sparse: kl or l1 (default kl)")
	fs.Float64Var(&f.rho, "rho", -1, "sparse, kl: target mean activation of the code (default 0.05)")
	fs.Float64Var(&f.lambda, "lambda", -1, "sparse and contractive: weight of the penalty")
	fs.Float64Var(&f.beta, "beta", -1, "vae: weight of the KL term (default 1)")
	fs.IntVar(&f.latent, "latent", -1, "vae: code size (default 16; 2 draws a latent map)")
}

// config builds the run's config from the course's defaults and the flags that were set.
func (f *trainFlags) config() (aelib.Config, error) {
	cfg, err := aelib.DefaultConfig(f.model)
	if err != nil {
		return cfg, usageError{err}
	}
	if f.quick {
		cfg = experiments.Quick(cfg)
	}
	if f.epochs >= 0 {
		cfg.Epochs = f.epochs
	} else if f.epochs != -1 {
		return cfg, usagef("--epochs must be >= 0, got %d", f.epochs)
	}
	if f.dataset != "" {
		cfg.Dataset = f.dataset
	}
	if f.batch != 0 {
		cfg.BatchSize = f.batch
	}
	if f.subset != 0 {
		cfg.TrainSubset = f.subset
	}
	if f.testSubset != 0 {
		cfg.TestSubset = f.testSubset
	}
	if f.lr != 0 {
		cfg.LearningRate = f.lr
	}
	if f.noise != -1 {
		cfg.Noise = f.noise
	}
	if f.penalty != "" {
		cfg.Penalty = f.penalty
	}
	for _, o := range []struct {
		flag float64
		dst  *float64
	}{{f.rho, &cfg.Rho}, {f.lambda, &cfg.Lambda}, {f.beta, &cfg.Beta}} {
		if o.flag != -1 {
			*o.dst = o.flag
		}
	}
	if f.latent != -1 {
		cfg.LatentDim = f.latent
	}
	cfg.Seed, cfg.Backend = f.seed, f.backend
	if cfg.Dataset != "mnist" && cfg.Dataset != "fashion" {
		return cfg, usagef("unknown --dataset %q (known: mnist, fashion)", cfg.Dataset)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", stderr)
	var tf trainFlags
	tf.register(fs)
	db := storeFlag(fs)
	noTrack := fs.Bool("no-track", false, "do not log the run to the store")
	checkpoint := fs.String("checkpoint", "", "save the trained weights here (default: beside the store)")
	name := fs.String("name", "", "run name (default: the model name)")
	progress := progressFlag(fs)
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	cfg, err := tf.config()
	if err != nil {
		return err
	}
	if *checkpoint != "" {
		if err := checkWritableDir(*checkpoint); err != nil {
			return usagef("--checkpoint: %v", err)
		}
	}
	preset, _ := experiments.LookupPreset(cfg.Model)
	spec := experiments.Spec{Config: cfg, Name: *name, Section: preset.Section, Source: "cli", CheckpointDir: *checkpoint}

	var store *tracker.Store
	if !*noTrack {
		if store, err = openStore(*db); err != nil {
			return err
		}
		defer store.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := experiments.Run(ctx, store, spec, experiments.Options{ProgressBar: *progress, Log: stdout})
	if res != nil && res.RunID != "" {
		fmt.Fprintf(stdout, "run %s in %s\n", res.RunID, store.Path())
	}
	if err != nil {
		return err
	}
	printFinal(stdout, res)
	return nil
}

// printFinal prints a run's summary line and where its weights are (the test metrics are
// already in the run's log).
func printFinal(w io.Writer, res *experiments.Result) {
	h := res.History
	total, _, _ := res.Model.Arch.Params()
	fmt.Fprintf(w, "%s: %s params, %d epochs, %.2f s/epoch (%.1f s in all, %s)\n", res.Model.Config.Model,
		aelib.Thousands(total), len(h.Epochs), h.SecondsPerEpoch(), h.Seconds, res.Model.Choice.Name)
	if n := len(h.Epochs); n > 0 {
		fmt.Fprintf(w, "  final: loss %.4f  val_bce %.4f  val_mse %.5f\n", h.Epochs[n-1].TrainLoss, h.Epochs[n-1].ValLoss, h.Epochs[n-1].ValMSE)
	}
	if res.CheckpointDir != "" {
		fmt.Fprintf(w, "  checkpoint: %s\n", res.CheckpointDir)
	}
}

// openStore opens the store at path, or the default one.
func openStore(path string) (*tracker.Store, error) {
	if path == "" {
		path = tracker.DefaultPath()
	}
	return tracker.Open(path)
}

// checkWritableDir checks that dir is, or can be created as, a folder.
func checkWritableDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is a file, not a folder", dir)
		}
		return nil
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		return fmt.Errorf("cannot create %s: %s is not a folder", dir, parent)
	}
	return nil
}

func runSummary(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("summary", stderr)
	model := fs.String("model", aelib.ModelVanilla, "model: "+strings.Join(aelib.Models(), ", "))
	html := fs.Bool("html", false, "print HTML instead of text")
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	cfg, err := aelib.DefaultConfig(*model)
	if err != nil {
		return usageError{err}
	}
	arch, err := cfg.Architecture()
	if err != nil {
		return err
	}
	s, err := arch.Summary()
	if err != nil {
		return err
	}
	if *html {
		fmt.Fprintln(stdout, s.HTML())
	} else {
		fmt.Fprint(stdout, s)
	}
	return nil
}
