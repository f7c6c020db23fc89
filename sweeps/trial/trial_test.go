package trial

import (
	"testing"

	"github.com/aelab/aelab/tracker"
)

func TestStateOf(t *testing.T) {
	run := func(s tracker.Status, err string, tags map[string]string) *tracker.RunRecord {
		return &tracker.RunRecord{Status: s, Error: err, Tags: tags}
	}
	for _, tc := range []struct {
		latest    *tracker.RunRecord
		cancelled bool
		want      State
	}{
		{nil, false, Queued},
		{nil, true, Cancelled},
		{run(tracker.StatusRunning, "", nil), false, Running},
		{run(tracker.StatusFinished, "", nil), false, Finished},
		{run(tracker.StatusFinished, "", map[string]string{tracker.TagSweepStoppedEarly: "median rule at epoch 2"}), false, StoppedEarly},
		{run(tracker.StatusFailed, "NaN loss", nil), false, Failed},
		{run(tracker.StatusKilled, "trial timeout", nil), false, Killed},
		{run(tracker.StatusKilled, tracker.ReasonSweepCancelled, nil), true, Cancelled},
		{run(tracker.StatusLost, "process 12 is gone", nil), false, Lost},
	} {
		if got := StateOf(tc.latest, tc.cancelled); got != tc.want {
			t.Errorf("StateOf(%+v, %v) = %q, want %q", tc.latest, tc.cancelled, got, tc.want)
		}
	}
	c := Counts{Queued: 1, Finished: 3, StoppedEarly: 1, Running: 2}
	if c.String() != "3 finished, 1 queued, 2 running, 1 stopped early" || c.Done() != 4 || c.Pending() != 3 {
		t.Errorf("counts %q, done %d, pending %d", c, c.Done(), c.Pending())
	}
}
