package tracker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TrialState is where one trial of a sweep stands, in words.
type TrialState string

// The states of a trial.
const (
	TrialQueued       TrialState = "queued"   // waiting for a worker (or for its retry)
	TrialRunning      TrialState = "running"  // a worker trains it
	TrialFinished     TrialState = "finished" // its run ended FINISHED after every epoch
	TrialStoppedEarly TrialState = "stopped early"
	TrialFailed       TrialState = "failed"
	TrialKilled       TrialState = "killed"
	TrialLost         TrialState = "lost" // its worker died
	TrialCancelled    TrialState = "cancelled"
)

// TrialStateOf is the state of a trial from the store's records alone: its latest run (nil
// before any) and whether its sweep was cancelled. The queue may know more than the store (a
// trial of a dead worker waiting for its retry is queued again): package sweeps, which owns
// the queue, lets the queue's word come first.
func TrialStateOf(latest *RunRecord, sweepCancelled bool) TrialState {
	if latest == nil {
		if sweepCancelled {
			return TrialCancelled
		}
		return TrialQueued
	}
	switch latest.Status {
	case StatusFinished:
		if latest.Tags[TagSweepStoppedEarly] != "" {
			return TrialStoppedEarly
		}
		return TrialFinished
	case StatusFailed:
		return TrialFailed
	case StatusKilled:
		if latest.Error == ReasonSweepCancelled {
			return TrialCancelled
		}
		return TrialKilled
	case StatusLost:
		return TrialLost
	}
	return TrialRunning
}

// TrialCounts is how many trials of a sweep are in each state.
type TrialCounts map[TrialState]int

// Done is the number of trials that ended with a result: finished or stopped early.
func (c TrialCounts) Done() int { return c[TrialFinished] + c[TrialStoppedEarly] }

// Pending is the number of trials still to train: queued or running.
func (c TrialCounts) Pending() int { return c[TrialQueued] + c[TrialRunning] }

// String is the counts in words, states in alphabetical order: "3 finished, 1 queued".
func (c TrialCounts) String() string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
	}
	return strings.Join(parts, ", ")
}
