package sweeps

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/riverqueue/river/rivertype"

	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// TrialStatus is where one trial of a sweep stands.
type TrialStatus struct {
	Trial tracker.SweepTrial
	State trial.State
	Job   *rivertype.JobRow    // its River job; nil once River has deleted it (a day after it ended)
	Runs  []*tracker.RunRecord // every attempt, oldest first
}

// Run is the trial's latest run, or nil before any.
func (t *TrialStatus) Run() *tracker.RunRecord {
	if len(t.Runs) == 0 {
		return nil
	}
	return t.Runs[len(t.Runs)-1]
}

// SweepStatus is a sweep with the state of each trial.
type SweepStatus struct {
	Sweep  *tracker.Sweep
	Trials []TrialStatus
	Counts trial.Counts
}

// Status reads where a sweep stands: its record and runs from the store, its queue from
// River. It only reads.
func Status(ctx context.Context, store *tracker.Store, sweepID string) (*SweepStatus, error) {
	sw, err := store.GetSweep(sweepID)
	if err != nil {
		return nil, err
	}
	q, err := openQueue(ctx, store, clientConfig{}, false) // reads only: nothing installed
	if err != nil {
		return nil, err
	}
	defer q.close()
	jobs, err := sweepJobs(ctx, q.client, sw.ID)
	if err != nil {
		return nil, err
	}
	runs, err := store.SweepRuns(sw.ID, -1)
	if err != nil {
		return nil, err
	}
	st := &SweepStatus{Sweep: sw, Counts: trial.Counts{}}
	byTrial := map[int]*TrialStatus{}
	for _, t := range sw.Trials {
		st.Trials = append(st.Trials, TrialStatus{Trial: t})
	}
	for i := range st.Trials {
		byTrial[st.Trials[i].Trial.Index] = &st.Trials[i]
	}
	for _, j := range jobs {
		var a struct {
			Index int `json:"trial"`
		}
		if err := json.Unmarshal(j.EncodedArgs, &a); err == nil && byTrial[a.Index] != nil {
			byTrial[a.Index].Job = j
		}
	}
	for _, r := range runs {
		if n, err := strconv.Atoi(r.Tags[tracker.TagSweepTrial]); err == nil && byTrial[n] != nil {
			byTrial[n].Runs = append(byTrial[n].Runs, r)
		}
	}
	for i := range st.Trials {
		t := &st.Trials[i]
		t.State = trialState(t, !sw.Cancelled.IsZero())
		st.Counts[t.State]++
	}
	return st, nil
}

// trialState is the trial's state in the store's records, unless its River job says that it
// is running or waiting in the queue (for a retry, too).
func trialState(t *TrialStatus, sweepCancelled bool) trial.State {
	if t.Job != nil {
		switch t.Job.State {
		case rivertype.JobStateRunning:
			return trial.Running
		case rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateScheduled:
			return trial.Queued
		case rivertype.JobStateCancelled:
			sweepCancelled = true // cancelled before it ran
		}
	}
	return trial.StateOf(t.Run(), sweepCancelled)
}
