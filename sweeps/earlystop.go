package sweeps

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// stopper is the aelib.Observer that applies a sweep's early-stopping rule to one trial after
// each epoch, comparing it with the other trials of the sweep as the store has them. When it
// stops the trial it tags the run with why and when; the run then ends FINISHED as usual.
type stopper struct {
	store  *tracker.Store
	args   TrialArgs
	runID  string // set once the run is recorded
	reason string // why it stopped the trial, "" while it has not
}

func newStopper(store *tracker.Store, a TrialArgs) *stopper { return &stopper{store: store, args: a} }

// EpochEnd decides whether the trial goes on after epoch m.Epoch.
func (s *stopper) EpochEnd(m aelib.EpochMetrics) error {
	rule, metric := s.args.Sweep.Stopping, s.args.Sweep.Metric
	if rule == nil || m.Epoch >= s.args.Config.Epochs {
		return nil // no rule, or the last epoch: nothing left to save
	}
	own, ok := epochValue(metric.Name, m)
	if !ok || !s.stops(m.Epoch, s.args.Config.Epochs, own) {
		return nil
	}
	return aelib.ErrStopTraining
}

// stops applies the sweep's rule to the trial's value own of the metric at epoch (of
// epochs; math.MaxInt32 when unknown) against the other trials' values at that epoch. When
// the trial is to stop it records why (stopper.reason, and tags on its run) and returns true.
func (s *stopper) stops(epoch, epochs int, own float64) bool {
	rule, metric := s.args.Sweep.Stopping, s.args.Sweep.Metric
	if rule == nil || epoch <= 0 || math.IsNaN(own) {
		return false
	}
	values, err := s.store.SweepEpochValues(s.args.SweepID, metric.Name, epoch)
	if err != nil {
		return false // the rule only saves time: a store it cannot read never fails a trial
	}
	var peers []tracker.SweepValue
	for _, v := range values {
		if v.Trial != s.args.Index && !math.IsNaN(v.Value) {
			peers = append(peers, v)
		}
	}
	var reason string
	switch rule.Rule {
	case RuleMedian:
		reason = medianRule(*rule, metric, epoch, own, peers)
	case RuleASHA:
		reason = ashaRule(*rule, metric, epoch, epochs, own, peers)
	}
	if reason == "" {
		return false
	}
	s.reason = reason
	if s.runID != "" {
		s.store.SetTag(s.runID, tracker.TagSweepStoppedEarly, reason)
		s.store.SetTag(s.runID, tracker.TagSweepStoppedEpoch, strconv.Itoa(epoch))
	}
	return true
}

// medianRule stops a trial whose metric at epoch is worse than the median of the finished
// trials' at the same epoch, once MinTrials finished trials reached it and after the warm-up.
// It returns why it stops the trial, or "".
func medianRule(r Stopping, m Metric, epoch int, own float64, peers []tracker.SweepValue) string {
	if epoch < r.WarmupEpochs {
		return ""
	}
	var done []float64
	for _, p := range peers {
		if p.Status == tracker.StatusFinished {
			done = append(done, p.Value)
		}
	}
	if len(done) < r.MinTrials {
		return ""
	}
	med := quantile(done, 0.5)
	if !m.Better(med, own) {
		return ""
	}
	return fmt.Sprintf("median rule at epoch %d: %s %.4g is worse than the median %.4g of %d finished trials",
		epoch, m.Name, own, med, len(done))
}

// ashaRule is asynchronous successive halving as a stopping rule: at each rung (epochs w,
// w·η, w·η², … before the last) a trial goes on only if its metric is within the best 1/η of
// the other trials that reached the rung. The first trial to reach a rung always goes on.
func ashaRule(r Stopping, m Metric, epoch, epochs int, own float64, peers []tracker.SweepValue) string {
	if !isRung(epoch, r.WarmupEpochs, r.ReductionFactor) || epoch >= epochs || len(peers) == 0 {
		return ""
	}
	values := make([]float64, len(peers))
	for i, p := range peers {
		values[i] = p.Value
	}
	q := 1 / float64(r.ReductionFactor) // the best 1/η: a low quantile when lower is better
	if !m.LowerIsBetter {
		q = 1 - q
	}
	cutoff := quantile(values, q)
	if !m.Better(cutoff, own) {
		return ""
	}
	return fmt.Sprintf("ASHA rung at epoch %d: %s %.4g is outside the best 1/%d (cutoff %.4g) of %d trials there",
		epoch, m.Name, own, r.ReductionFactor, cutoff, len(values))
}

// isRung reports whether epoch is grace·η^k for some k >= 0.
func isRung(epoch, grace, eta int) bool {
	for e := grace; e <= epoch; e *= eta {
		if e == epoch {
			return true
		}
	}
	return false
}

// quantile is the q-quantile of values with linear interpolation between order statistics
// (NumPy's default).
func quantile(values []float64, q float64) float64 {
	v := slices.Clone(values)
	slices.Sort(v)
	pos := q * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(v)-1)
	return v[lo] + (pos-float64(lo))*(v[hi]-v[lo])
}
