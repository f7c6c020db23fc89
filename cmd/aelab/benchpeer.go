package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/bench"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// peerModels are the models the PyTorch reference builds.
var peerModels = []string{aelib.ModelVanilla, aelib.ModelDeep, aelib.ModelDenoise}

// peerResult is the peer's side of one model's measurement.
type peerResult struct {
	Name         string    `json:"name"` // bench.PeerPyTorch
	Info         string    `json:"info"` // version, threads, BLAS
	RunID        string    `json:"run_id"`
	Epochs       int       `json:"epochs"`
	SecPerEpoch  float64   `json:"seconds_per_epoch"` // training only, the median of EpochSeconds, as aelab's
	EpochSeconds []float64 `json:"epoch_seconds"`     // the epochs after the first, each scaled to a full epoch
	Extrapolated bool      `json:"extrapolated"`
	// Ratios are aelab's seconds over the peer's, round by round (an epoch of aelab's and the
	// peer's epoch after it); Ratio is their median: below 1, aelab is faster.
	Ratios       []float64 `json:"ratios"`
	Ratio        float64   `json:"ratio"`
	PeakRSSMiB   float64   `json:"peak_rss_mib"`
	RSSMiB       []float64 `json:"rss_mib"` // at the end of each epoch
	FinalLoss    float64   `json:"final_loss"`
	FinalValLoss float64   `json:"final_val_loss"`
	TestMSE      float64   `json:"test_mse"` // scored by aelab from the peer's reconstructions
}

// peerSetup is what every model's peer needs: the store its runs go to and the Python.
type peerSetup struct {
	store  *tracker.Store
	python string
	log    io.Writer
}

// peerSide is the peer training one model next to aelab: an aelib.Observer that trains one
// peer epoch after each of aelab's and logs it to the peer's run.
type peerSide struct {
	peer   *bench.Peer
	run    *experiments.PeerRun
	epochs []bench.PeerEpoch
	ended  bool
}

func (p *peerSetup) start(ctx context.Context, cfg aelib.Config, s aelib.Splits) (*peerSide, error) {
	peer, err := bench.StartPyTorch(ctx, cfg, s, bench.PeerOptions{Python: p.python})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(p.log, "bench %s: peer %s\n", cfg.Model, peer.Info)
	spec := experiments.Spec{Config: cfg, Name: cfg.Model + " (" + peer.Info.Name + ")", Source: "bench"}
	if preset, err := experiments.LookupPreset(cfg.Model); err == nil {
		spec.Section = preset.Section
	}
	run, err := experiments.StartPeerRun(p.store, spec, experiments.PeerEnv{Name: peer.Info.Name, Info: peer.Info.String(), Device: bench.Machine()})
	if err != nil {
		return nil, errors.Join(err, peer.Close())
	}
	return &peerSide{peer: peer, run: run}, nil
}

// EpochEnd trains one peer epoch after aelab's epoch m.
func (ps *peerSide) EpochEnd(aelib.EpochMetrics) error {
	e, err := ps.peer.Epoch()
	if err != nil {
		return err
	}
	ps.epochs = append(ps.epochs, e)
	return ps.run.LogEpoch(e.EpochMetrics)
}

// finish collects the peer's reconstructions, logs its final evaluation and measures its
// speed as benchOne measures aelab's: training seconds of each epoch after the first, per
// step, times fullSteps.
func (ps *peerSide) finish(s aelib.Splits, labels []uint8, noisy bool, fullSteps int) (*peerResult, error) {
	recon, peak, err := ps.peer.Finish()
	if err != nil {
		return nil, err
	}
	ps.ended = true
	ev, err := ps.run.Finish(recon, s, labels, noisy)
	if err != nil {
		return nil, err
	}
	r := &peerResult{Name: ps.peer.Info.Name, Info: ps.peer.Info.String(), RunID: ps.run.ID(), Epochs: len(ps.epochs),
		PeakRSSMiB: peak, TestMSE: ev.Test.MSE}
	if len(ps.epochs) == 0 {
		return r, nil
	}
	last := ps.epochs[len(ps.epochs)-1]
	r.FinalLoss, r.FinalValLoss = last.TrainLoss, last.ValLoss
	for _, e := range ps.epochs {
		r.RSSMiB = append(r.RSSMiB, e.RSSMiB)
	}
	stepsPerEpoch := int(last.Step) / last.Epoch
	for _, e := range timedEpochs(ps.epochs) {
		r.EpochSeconds = append(r.EpochSeconds, e.TrainSeconds/float64(stepsPerEpoch)*float64(fullSteps))
	}
	r.SecPerEpoch = bench.SpreadOf(r.EpochSeconds).Median
	r.Extrapolated = stepsPerEpoch != fullSteps
	return r, nil
}

// close ends the peer process and, unless finish did, the peer's run by the outcome err.
func (ps *peerSide) close(ctx context.Context, err error) error {
	closeErr := ps.peer.Close()
	if ps.ended {
		return closeErr
	}
	if err == nil {
		err = errors.New("bench ended before the peer finished")
	}
	return errors.Join(closeErr, ps.run.End(ctx, err))
}

// printPeerTable prints the side-by-side comparison as a Markdown table, with the machine and
// the load it ran under.
func printPeerTable(w io.Writer, results []benchResult, machine, loadBefore, loadAfter string) {
	var aelabOn, peerInfo string
	for _, r := range results {
		if r.Peer != nil {
			aelabOn, peerInfo = fmt.Sprintf("%s (%s)", r.Backend, r.Device), r.Peer.Info
			break
		}
	}
	fmt.Fprintf(w, "\nSide by side on %s, load average %s before, %s after.\n", machine, loadBefore, loadAfter)
	fmt.Fprintf(w, "aelab on %s; peer %s. Seconds per epoch: training only, each epoch after the first a round\n"+
		"(aelab's epoch, then the peer's); median (min–max) of the rounds, the ratio round by round.\n\n", aelabOn, peerInfo)
	fmt.Fprintln(w, "| model | rounds | aelab s/epoch | PyTorch s/epoch | aelab / PyTorch | aelab peak RSS | PyTorch peak RSS | aelab loss / val | PyTorch loss / val | PyTorch run |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|---|---|")
	var wide []string
	for _, r := range results {
		p := r.Peer
		if p == nil {
			continue
		}
		approx := ""
		if r.Extrapolated || p.Extrapolated {
			approx = " (extrapolated)"
		}
		own, peer, ratio := bench.SpreadOf(r.EpochSeconds), bench.SpreadOf(p.EpochSeconds), bench.SpreadOf(p.Ratios)
		fmt.Fprintf(w, "| %s | %d | %s%s | %s | %s | %.0f MiB%s | %.0f MiB%s | %.4f / %.4f | %.4f / %.4f | %s |\n",
			r.Model, ratio.N, own.Format("%.2f"), approx, peer.Format("%.2f"), ratio.Format("%.2f"),
			r.PeakRSSMiB, growth(r.RSSMiB), p.PeakRSSMiB, growth(p.RSSMiB),
			r.FinalLoss, r.FinalValLoss, p.FinalLoss, p.FinalValLoss, shortID(p.RunID))
		if own.Wide() || peer.Wide() || ratio.Wide() {
			wide = append(wide, r.Model)
		}
	}
	printWideNote(w, wide, loadBefore, loadAfter)
}

// growth describes how resident memory moved from the end of the second epoch (the first
// allocates what training keeps) to the end of the last: "", or " (+12 MiB over epochs 2–5)".
func growth(rss []float64) string {
	if len(rss) < 3 {
		return ""
	}
	d := rss[len(rss)-1] - rss[1]
	if d > -1 && d < 1 {
		return ""
	}
	return fmt.Sprintf(" (%+.0f MiB over epochs 2–%d)", d, len(rss))
}

// shortID is the 8-character prefix runs are shown by.
func shortID(id string) string { return id[:min(8, len(id))] }
