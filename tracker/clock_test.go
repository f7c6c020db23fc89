package tracker

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestTheStoreClockDecidesLost: a reader on another host calls a run LOST once its clock is
// past the heartbeat's age limit, and not before; the run's times come from its store's clock.
// Time passes by moving the clock, with no sleep.
func TestTheStoreClockDecidesLost(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend) {
		loc := b.newLocation(t)
		start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		clock := newFakeClock(start)
		t.Setenv("AELAB_HOSTNAME", "host-a")
		w, err := OpenWith(loc, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		w.SetHeartbeatInterval(time.Hour) // no beat during the test: only the start's
		r := mustStart(t, w, RunSpec{Name: "clocked"})

		t.Setenv("AELAB_HOSTNAME", "host-b")
		readerClock := newFakeClock(start.Add(time.Minute))
		rd, err := OpenWith(loc, Options{ReadOnly: true, Now: readerClock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		got, err := rd.GetRun(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusRunning || !got.StartTime.Equal(start) {
			t.Fatalf("a minute in: %s, started %v (want RUNNING, %v)", got.Status, got.StartTime, start)
		}
		readerClock.Advance(3*time.Hour + time.Second) // past 3 heartbeat intervals
		if got, err = rd.GetRun(r.ID()); err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusLost || !strings.HasPrefix(got.Error, "no heartbeat from host-a since ") {
			t.Fatalf("three hours on: %s %q (want LOST, no heartbeat from host-a)", got.Status, got.Error)
		}
	})
}
