package main

import (
	"context"
	"fmt"
	htmlpkg "html"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", stderr)
	cf := experiments.NewConfigFlags()
	cf.Register(fs)
	db := storeFlag(fs)
	noTrack := fs.Bool("no-track", false, "do not log the run to the store")
	checkpoint := fs.String("checkpoint", "", "save the trained weights here (default: beside the store)")
	name := fs.String("name", "", "run name (default: the model name)")
	progress := progressFlag(fs)
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	cfg, err := cf.Config()
	if err != nil {
		return usageError{err}
	}
	if err := cfg.CheckMemory(); err != nil { // before anything is built or a run is recorded
		return usageError{err}
	}
	if *checkpoint != "" {
		if err := checkWritableDir(*checkpoint); err != nil {
			return usagef("--checkpoint: %v", err)
		}
		if err := aelib.CheckCheckpointDir(*checkpoint); err != nil {
			return usagef("--checkpoint %v", err)
		}
	}
	preset, _ := experiments.LookupPreset(cfg.Model)
	spec := experiments.Spec{Config: cfg, Name: *name, Section: preset.Section, Source: "cli", CheckpointDir: *checkpoint}

	if _, err := data.Locate(cfg.Dataset); err != nil { // before the store is opened or created
		return err
	}
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
	fmt.Fprintf(w, "%s: %s params, %d epochs, %s/epoch (%s in all, %s)\n", res.Model.Config.Model,
		aelib.Thousands(total), len(h.Epochs), experiments.SecondsPerEpoch.Format(h.SecondsPerEpoch()),
		experiments.TrainSeconds.Format(h.Seconds), res.Model.Choice.Name)
	if n := len(h.Epochs); n > 0 {
		line := "  final:"
		for _, m := range []experiments.Metric{experiments.TrainLoss, experiments.ValBCE, experiments.ValMSE} {
			v, _ := m.InEpoch(h.Epochs[n-1])
			line += fmt.Sprintf("  %s %s", m.Name, m.Format(v))
		}
		fmt.Fprintln(w, line)
	}
	if res.CheckpointDir != "" {
		fmt.Fprintf(w, "  checkpoint: %s\n", res.CheckpointDir)
	}
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
	cf := experiments.NewConfigFlags()
	cf.Register(fs) // a summary of the model the same flags would train
	html := fs.Bool("html", false, "print HTML instead of text")
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	cfg, err := cf.Config()
	if err != nil {
		return usageError{err}
	}
	est, err := cfg.MemoryEstimate() // refuses absurd sizes before the summary counts them
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
	fits, err := memoryVerdict(est)
	if err != nil {
		return usageError{err}
	}
	if *html {
		fmt.Fprintln(stdout, s.HTML())
		fmt.Fprintf(stdout, "<p class=\"memory\">Training memory: about %s. %s</p>\n", htmlpkg.EscapeString(est.String()), htmlpkg.EscapeString(fits))
	} else {
		fmt.Fprint(stdout, s)
		fmt.Fprintf(stdout, "Training memory: about %s\n%s\n", est, fits)
	}
	return nil
}

// memoryVerdict says whether training a model of this estimate fits in this machine's memory.
func memoryVerdict(est aelib.MemoryEstimate) (string, error) {
	avail, ok, err := aelib.AvailableMemory()
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "This machine does not say how much memory it has available.", nil
	case est.Total > avail.Bytes:
		return fmt.Sprintf("It does not fit: %s available (%s); aelab train refuses it.", aelib.Bytes(int(avail.Bytes)), avail.Source), nil
	}
	return fmt.Sprintf("It fits: %s available (%s).", aelib.Bytes(int(avail.Bytes)), avail.Source), nil
}
