package experiments

import (
	"context"
	"errors"
	"fmt"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/tracker"
)

// TagPeer marks a run trained outside aelab by a reference implementation of the same model
// (the PyTorch reference of `aelab bench --peer pytorch`); its value names the peer. Reports
// keep such runs apart from aelab's own.
const TagPeer = "peer"

// PeerEnv says where a peer trained, for the run's environment tags.
type PeerEnv struct {
	Name   string // the peer, also the run's env.backend: "pytorch"
	Info   string // its version and settings: "PyTorch 1.13.0a0, 2 threads, BLAS …"
	Device string // the CPU
}

// PeerRun is a run in the store of a model a peer trains: aelab logs the peer's epochs as it
// logs its own and, from the peer's reconstructions of the test inputs, the same final
// evaluation, through the same code as Run.
type PeerRun struct {
	run   *tracker.Run
	model *aelib.Autoencoder // the config and architecture alone, for LogResults' sizes
	hist  aelib.History
}

// StartPeerRun starts a run of spec.Config trained by a peer, tagged TagPeer.
func StartPeerRun(store *tracker.Store, spec Spec, peer PeerEnv) (*PeerRun, error) {
	if err := spec.Config.Validate(); err != nil {
		return nil, err
	}
	if peer.Name == "" {
		return nil, errors.New("experiments: a peer run needs the peer's name")
	}
	arch, err := spec.Config.Architecture()
	if err != nil {
		return nil, err
	}
	spec.Tags = mergeTags(map[string]string{TagPeer: peer.Name}, spec.Tags)
	run, err := StartRun(store, spec, environment(peer.Name, peer.Info, peer.Device))
	if err != nil {
		return nil, err
	}
	return &PeerRun{run: run, model: &aelib.Autoencoder{Config: spec.Config, Arch: arch}}, nil
}

// ID is the run's id.
func (r *PeerRun) ID() string { return r.run.ID() }

// LogEpoch records one of the peer's epochs, as Run records aelab's.
func (r *PeerRun) LogEpoch(m aelib.EpochMetrics) error {
	if err := LogEpoch(r.run, m); err != nil {
		return err
	}
	r.hist.Epochs = append(r.hist.Epochs, m)
	r.hist.Seconds += m.Seconds
	if m.Epoch > 0 {
		r.hist.StepsPerEpoch = int(m.Step) / m.Epoch
	}
	return nil
}

// Finish scores the peer's reconstructions of the test inputs of s (NTest×data.Pixels values) as
// Evaluate scores aelab's, logs the same final metrics as Run, and ends the run FINISHED;
// labels are the test classes (nil skips the per-digit errors).
func (r *PeerRun) Finish(recon []float32, s aelib.Splits, labels []uint8, noisy bool) (Evaluation, error) {
	if len(recon) != s.NTest*data.Pixels {
		err := fmt.Errorf("experiments: %d reconstructed values for %d test images", len(recon), s.NTest)
		return Evaluation{}, errors.Join(err, r.End(context.Background(), err))
	}
	ev := EvaluateReconstructions(recon, s, labels, noisy)
	if err := LogResults(r.run, &Result{Model: r.model, History: &r.hist, Evaluation: ev}); err != nil {
		return ev, errors.Join(err, r.End(context.Background(), err))
	}
	return ev, r.End(context.Background(), nil)
}

// End ends the run by an outcome, as Run does: FINISHED for nil, KILLED when ctx was
// cancelled, FAILED otherwise. It returns the store's error, if recording the end failed.
func (r *PeerRun) End(ctx context.Context, err error) error { return finishRun(ctx, r.run, err) }
