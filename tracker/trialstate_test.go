package tracker

import "testing"

func TestTrialStateOf(t *testing.T) {
	run := func(s Status, err string, tags map[string]string) *RunRecord {
		return &RunRecord{Status: s, Error: err, Tags: tags}
	}
	for _, tc := range []struct {
		latest    *RunRecord
		cancelled bool
		want      TrialState
	}{
		{nil, false, TrialQueued},
		{nil, true, TrialCancelled},
		{run(StatusRunning, "", nil), false, TrialRunning},
		{run(StatusFinished, "", nil), false, TrialFinished},
		{run(StatusFinished, "", map[string]string{TagSweepStoppedEarly: "median rule at epoch 2"}), false, TrialStoppedEarly},
		{run(StatusFailed, "NaN loss", nil), false, TrialFailed},
		{run(StatusKilled, "trial timeout", nil), false, TrialKilled},
		{run(StatusKilled, ReasonSweepCancelled, nil), true, TrialCancelled},
		{run(StatusLost, "process 12 is gone", nil), false, TrialLost},
	} {
		if got := TrialStateOf(tc.latest, tc.cancelled); got != tc.want {
			t.Errorf("TrialStateOf(%+v, %v) = %q, want %q", tc.latest, tc.cancelled, got, tc.want)
		}
	}
	c := TrialCounts{TrialQueued: 1, TrialFinished: 3, TrialStoppedEarly: 1, TrialRunning: 2}
	if c.String() != "3 finished, 1 queued, 2 running, 1 stopped early" || c.Done() != 4 || c.Pending() != 3 {
		t.Errorf("counts %q, done %d, pending %d", c, c.Done(), c.Pending())
	}
}
