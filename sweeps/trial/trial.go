package trial

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aelab/aelab/tracker"
)

// State is where one trial of a sweep stands, in words.
type State string

// The states of a trial.
const (
	Queued       State = "queued"   // waiting for a worker (or for its retry)
	Running      State = "running"  // a worker trains it
	Finished     State = "finished" // its run ended FINISHED after every epoch
	StoppedEarly State = "stopped early"
	Failed       State = "failed"
	Killed       State = "killed"
	Lost         State = "lost" // its worker died
	Cancelled    State = "cancelled"
)

// StateOf is the state of a trial from the store's records alone: its latest run (nil
// before any) and whether its sweep was cancelled. The queue may know more than the store (a
// trial of a dead worker waiting for its retry is queued again): package sweeps, which owns
// the queue, lets the queue's word come first.
func StateOf(latest *tracker.RunRecord, sweepCancelled bool) State {
	if latest == nil {
		if sweepCancelled {
			return Cancelled
		}
		return Queued
	}
	switch latest.Status {
	case tracker.StatusFinished:
		if latest.Tags[tracker.TagSweepStoppedEarly] != "" {
			return StoppedEarly
		}
		return Finished
	case tracker.StatusFailed:
		return Failed
	case tracker.StatusKilled:
		if latest.Error == tracker.ReasonSweepCancelled {
			return Cancelled
		}
		return Killed
	case tracker.StatusLost:
		return Lost
	}
	return Running
}

// Counts is how many trials of a sweep are in each state.
type Counts map[State]int

// Done is the number of trials that ended with a result: finished or stopped early.
func (c Counts) Done() int { return c[Finished] + c[StoppedEarly] }

// Pending is the number of trials still to train: queued or running.
func (c Counts) Pending() int { return c[Queued] + c[Running] }

// String is the counts in words, states in alphabetical order: "3 finished, 1 queued".
func (c Counts) String() string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
	}
	return strings.Join(parts, ", ")
}
