package sweeps

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Cancelling a sweep twice says the second time that it was already cancelled, and counts
// its trials in the singular when there is one.
func TestCancelTwiceSaysAlreadyCancelled(t *testing.T) {
	store := openTestStore(t)
	ctx := context.Background()
	sw, err := Create(ctx, store, mustParse(t, "name: once\nmodel: vanilla\nparameters: {lr: [0.001]}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := Cancel(ctx, store, sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := `cancelled: 1 trial was queued or running (running ones end KILLED "sweep cancelled" within seconds)`; first.String() != want {
		t.Errorf("first cancel: %q, want %q", first, want)
	}
	second, err := Cancel(ctx, store, sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := store.GetSweep(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Before.Equal(stored.Cancelled) || second.Unfinished != 0 {
		t.Errorf("second cancel: %+v, want the first cancel's time %v and nothing unfinished", second, stored.Cancelled)
	}
	want := "already cancelled at " + stored.Cancelled.Local().Format("2006-01-02 15:04:05") + "; no trial was queued or running"
	if second.String() != want {
		t.Errorf("second cancel: %q, want %q", second, want)
	}
	for n, want := range map[int]string{0: "no trial was", 1: "1 trial was", 2: "2 trials were"} {
		c := Cancelled{Before: time.Unix(0, 0), Unfinished: n}
		if !strings.Contains(c.String(), want) {
			t.Errorf("%d unfinished: %q does not say %q", n, c, want)
		}
	}
}
