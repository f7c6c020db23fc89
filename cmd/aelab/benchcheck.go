package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/bench"
)

// peerCheck is one model's reference check: the seconds per epoch of each round of the plain
// script and of the reference, each round the median of that process's epochs after its first.
type peerCheck struct {
	Model     string       `json:"model"`
	Plain     bench.Spread `json:"plain_seconds_per_epoch"`
	Reference bench.Spread `json:"reference_seconds_per_epoch"`
}

// fast reports whether the reference is as fast as the plain script: its median no slower than
// the plain script's slowest round.
func (c peerCheck) fast() bool { return c.Reference.Median <= c.Plain.Max }

// runPeerCheck checks the PyTorch reference against the plain PyTorch script of the same
// model: rounds times, the plain script trains cfg.Epochs epochs on its own, then the
// reference does (stepped by aelab as bench --peer steps it, with no aelab epochs between),
// both on cfg.TrainSubset's first images when it is set.
// It fails when the reference is slower than every round of the plain script.
func runPeerCheck(cfgs []aelib.Config, rounds int, python string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	machine, loadBefore := bench.Machine(), bench.LoadAverage()
	opts := bench.PeerOptions{Python: python}
	ds, err := data.Load(cfgs[0].Dataset) // every model of one bench trains on the same data set
	if err != nil {
		return err
	}
	dir, err := data.Locate(cfgs[0].Dataset)
	if err != nil {
		return err
	}
	var checks []peerCheck
	for _, cfg := range cfgs {
		arch, err := cfg.Architecture()
		if err != nil {
			return err
		}
		params, _, _ := arch.Params()
		s := aelib.PrepareSplits(cfg, ds)
		var plain, reference []float64
		for r := range rounds {
			fmt.Fprintf(stderr, "check %s: round %d of %d: plain script\n", cfg.Model, r+1, rounds)
			var knobs []string
			if s.NTrain != ds.Train.N {
				knobs = append(knobs, fmt.Sprintf("images=%d", s.NTrain))
			}
			epochs, err := bench.RunPlain(ctx, cfg.Model, cfg.Epochs, dir, opts, knobs...)
			if err != nil {
				return err
			}
			if epochs[0].Params != params {
				return fmt.Errorf("check %s: the plain script's model has %d parameters, aelab's %d: they are not the same model", cfg.Model, epochs[0].Params, params)
			}
			var secs []float64
			for _, e := range timedEpochs(epochs) {
				secs = append(secs, e.Seconds)
			}
			plain = append(plain, bench.SpreadOf(secs).Median)
			fmt.Fprintf(stderr, "check %s: round %d of %d: reference\n", cfg.Model, r+1, rounds)
			sec, err := referenceEpochs(ctx, cfg, s, opts)
			if err != nil {
				return err
			}
			reference = append(reference, sec)
		}
		checks = append(checks, peerCheck{Model: cfg.Model, Plain: bench.SpreadOf(plain), Reference: bench.SpreadOf(reference)})
	}
	printPeerCheck(stdout, checks, rounds, cfgs[0].Epochs, machine, loadBefore, bench.LoadAverage())
	var slow []error
	for _, c := range checks {
		if !c.fast() {
			slow = append(slow, fmt.Errorf("%s: the reference (%s s/epoch) is slower than every round of the plain script (%s)",
				c.Model, c.Reference.Format("%.3f"), c.Plain.Format("%.3f")))
		}
	}
	return errors.Join(slow...)
}

// referenceEpochs trains cfg's model with the PyTorch reference alone and returns the median
// training seconds of its epochs after the first.
func referenceEpochs(ctx context.Context, cfg aelib.Config, s aelib.Splits, opts bench.PeerOptions) (sec float64, err error) {
	peer, err := bench.StartPyTorch(ctx, cfg, s, opts)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, peer.Close()) }()
	var epochs []bench.PeerEpoch
	for range cfg.Epochs {
		e, err := peer.Epoch()
		if err != nil {
			return 0, err
		}
		epochs = append(epochs, e)
	}
	var secs []float64
	for _, e := range timedEpochs(epochs) {
		secs = append(secs, e.TrainSeconds)
	}
	return bench.SpreadOf(secs).Median, nil
}

// timedEpochs are the epochs a timing counts: all but the first, which warms caches, thread
// pools and allocators, unless it is the only one.
func timedEpochs[E any](epochs []E) []E {
	if len(epochs) > 1 {
		return epochs[1:]
	}
	return epochs
}

func printPeerCheck(w io.Writer, checks []peerCheck, rounds, epochs int, machine, loadBefore, loadAfter string) {
	fmt.Fprintf(w, "\nReference check on %s, load average %s before, %s after.\n", machine, loadBefore, loadAfter)
	fmt.Fprintf(w, "The PyTorch reference (bench/pytorch_reference.py, stepped as bench --peer steps it) against a plain PyTorch\n"+
		"script of the same model (bench/pytorch_plain.py), each on its own, alternately: %s of %s each.\n"+
		"Seconds per epoch of training, each round the median of its epochs after the first; median (min–max) of the rounds.\n\n", count(rounds, "round"), count(epochs, "epoch"))
	fmt.Fprintln(w, "| model | plain s/epoch | reference s/epoch | reference / plain | verdict |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|")
	var wide []string
	for _, c := range checks {
		verdict := "as fast: within the plain script's spread or faster"
		if !c.fast() {
			verdict = "SLOWER than every plain round"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f | %s |\n", c.Model, c.Plain.Format("%.3f"), c.Reference.Format("%.3f"),
			c.Reference.Median/c.Plain.Median, verdict)
		if c.Plain.Wide() || c.Reference.Wide() {
			wide = append(wide, c.Model)
		}
	}
	printWideNote(w, wide, loadBefore, loadAfter)
}

// printWideNote says which models' rounds spread wider than bench.WideSpread: their medians
// are then the machine's load as much as the code's speed.
func printWideNote(w io.Writer, models []string, loadBefore, loadAfter string) {
	if len(models) == 0 {
		return
	}
	fmt.Fprintf(w, "\nSpread wider than %.0f %% (%s): the machine's load (%s before, %s after) moved the rounds; rerun on a quiet machine before quoting these figures.\n",
		bench.WideSpread*100, strings.Join(models, ", "), loadBefore, loadAfter)
}

// count is "1 round", "3 rounds".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
