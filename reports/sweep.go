package reports

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// SweepReport compares the trials of one hyperparameter sweep: a table of every trial (its
// parameters, status, metric, whether it was stopped early), the best trial's config and
// metrics, a parallel-coordinates figure, the metric against each parameter, and every
// trial's learning curve. Everything comes from the store: the sweep's record and its trials'
// runs (trials that have not run yet are listed as queued).
type SweepReport struct {
	Title     string
	Generated time.Time
	Host      string
	StorePath string
	Sweep     *tracker.Sweep
	Trials    []*SweepTrial // in trial order
	Best      *SweepTrial   // nil until a trial has finished with the metric
	// CurveMetric is the per-epoch metric of the learning curves: the sweep's metric when it is
	// logged every epoch, else val_bce.
	CurveMetric string
	Figures     []*Figure
	Notes       []string
}

// SweepTrial is one trial of the report.
type SweepTrial struct {
	tracker.SweepTrial
	Run      *tracker.RunRecord // the latest attempt; nil before any
	State    trial.State        // from the latest attempt (the store does not see the queue)
	Attempts int                // runs recorded for this trial (a retry after a dead worker is one more)
	Value    float64            // the sweep metric's latest value; NaN when the run has none
	Curve    []tracker.MetricPoint
	// StoppedEpoch is the last epoch of a trial stopped early (0 otherwise), StoppedWhy the rule's reason.
	StoppedEpoch int
	StoppedWhy   string
}

// SweepOptions are the knobs of BuildSweep.
type SweepOptions struct {
	NoFigures bool // tables only (listing sweeps)
}

// BuildSweep reads a sweep (id or unique prefix) and its trials' runs from the store and
// computes the report.
func BuildSweep(store *tracker.Store, sweepID string, opts SweepOptions) (*SweepReport, error) {
	if store == nil {
		return nil, errors.New("reports: no store")
	}
	sw, err := store.GetSweep(sweepID)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	rep := &SweepReport{Title: "Sweep " + sw.Name, Generated: time.Now(), StorePath: store.Path(), Sweep: sw, CurveMetric: sw.Metric}
	rep.Host, _ = os.Hostname()
	byIndex := map[int]*SweepTrial{}
	for _, t := range sw.Trials {
		st := &SweepTrial{SweepTrial: t, Value: math.NaN()}
		rep.Trials = append(rep.Trials, st)
		byIndex[t.Index] = st
	}
	for _, r := range runs { // oldest first: the last one seen is the latest attempt
		n, err := strconv.Atoi(r.Tags[tracker.TagSweepTrial])
		if t := byIndex[n]; err == nil && t != nil {
			t.Run = r
			t.Attempts++
		}
	}
	for _, t := range rep.Trials {
		t.State = trial.StateOf(t.Run, !sw.Cancelled.IsZero())
		if t.Run == nil {
			continue
		}
		if v, ok := t.Run.Metrics[sw.Metric]; ok {
			t.Value = v
		}
		t.StoppedWhy = t.Run.Tags[tracker.TagSweepStoppedEarly]
		t.StoppedEpoch, _ = strconv.Atoi(t.Run.Tags[tracker.TagSweepStoppedEpoch])
	}
	// Learning curves of the sweep's metric when it is logged every epoch, else of the validation BCE.
	for _, key := range []string{sw.Metric, experiments.ValBCE.Name} {
		rep.CurveMetric = key
		perEpoch := false
		for _, t := range rep.Trials {
			if t.Run == nil {
				continue
			}
			if t.Curve, err = store.MetricHistory(t.Run.ID, key); err != nil {
				return nil, fmt.Errorf("reports: run %s: %w", t.Run.ShortID(), err)
			}
			perEpoch = perEpoch || len(t.Curve) > 1
		}
		if perEpoch {
			break
		}
	}
	rep.Best = bestTrial(rep.Trials, sw.LowerIsBetter)
	if !opts.NoFigures {
		rep.Figures, rep.Notes = buildSweepFigures(rep)
	}
	return rep, nil
}

// bestTrial is the FINISHED trial with the best metric, preferring trials that trained every
// epoch over ones stopped early; nil when none has the metric.
func bestTrial(trials []*SweepTrial, lowerIsBetter bool) *SweepTrial {
	var best *SweepTrial
	better := func(a, b *SweepTrial) bool {
		if (a.StoppedEpoch == 0) != (b.StoppedEpoch == 0) {
			return a.StoppedEpoch == 0
		}
		if lowerIsBetter {
			return a.Value < b.Value
		}
		return a.Value > b.Value
	}
	for _, t := range trials {
		if t.Run == nil || t.Run.Status != tracker.StatusFinished || math.IsNaN(t.Value) {
			continue
		}
		if best == nil || better(t, best) {
			best = t
		}
	}
	return best
}

// Ranked is the trials with the metric, best first (then the others, in trial order).
func (r *SweepReport) Ranked() []*SweepTrial {
	out := slices.Clone(r.Trials)
	slices.SortStableFunc(out, func(a, b *SweepTrial) int {
		an, bn := math.IsNaN(a.Value), math.IsNaN(b.Value)
		switch {
		case an && bn:
			return 0
		case an:
			return 1
		case bn:
			return -1
		case a.Value == b.Value:
			return 0
		case (a.Value < b.Value) == r.Sweep.LowerIsBetter:
			return -1
		}
		return 1
	})
	return out
}

// Counts is how many trials are in each state.
func (r *SweepReport) Counts() trial.Counts {
	m := trial.Counts{}
	for _, t := range r.Trials {
		m[t.State]++
	}
	return m
}
