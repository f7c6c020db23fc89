package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sweep create of a billion trials is refused at once with one line, even with --allow-large;
// a large sweep shows its progress on stderr.
func TestSweepCreateLimitsAndShowsProgress(t *testing.T) {
	s, db := newTestStore(t)
	s.Close()
	before, _ := os.ReadFile(db)
	huge := writeSpec(t, "name: huge\nmodel: vanilla\nmethod: random\ntrials: 1000000000\nparameters:\n  lr: {log_uniform: [0.0001, 0.01]}\n")
	start := time.Now()
	code, _, stderr := runAelab(t, "sweep", "create", huge, "--allow-large", "--db", db)
	want := "aelab sweep: create: sweep huge makes 1,000,000,000 trials, more than the limit of 100,000 even with --allow-large: split it into several sweeps or vary fewer values\n"
	if code != 2 || stderr != want {
		t.Errorf("exit %d, stderr %q\n want 2 and %q", code, stderr, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing took %v", d)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Error("a refused sweep changed the store")
	}
	large := writeSpec(t, "name: large\nmodel: vanilla\nmethod: random\ntrials: 2000\nparameters:\n  lr: {log_uniform: [0.0001, 0.01]}\n")
	code, stdout, stderr := runAelab(t, "sweep", "create", large, "--allow-large", "--db", db)
	if code != 0 || !strings.Contains(stdout, "(large): 2000 trials queued on queue cpu") ||
		stderr != "sweep large: 1,000 of 2,000 trials enqueued\nsweep large: 2,000 of 2,000 trials enqueued\n" {
		t.Errorf("large sweep: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A second sweep cancel says the sweep was already cancelled; one trial is "1 trial".
func TestSweepCancelTwice(t *testing.T) {
	s, db := newTestStore(t)
	s.Close()
	spec := writeSpec(t, "model: vanilla\nparameters: {lr: [0.001]}\n")
	code, stdout, stderr := runAelab(t, "sweep", "create", spec, "--db", db)
	id := regexp.MustCompile(`^sweep ([0-9a-f-]{36}) `).FindStringSubmatch(stdout)
	if code != 0 || id == nil {
		t.Fatalf("create: exit %d, %q %q", code, stdout, stderr)
	}
	short := id[1][:8]
	code, stdout, _ = runAelab(t, "sweep", "cancel", short, "--db", db)
	if want := "sweep " + short + ` cancelled: 1 trial was queued or running (running ones end KILLED "sweep cancelled" within seconds)` + "\n"; code != 0 || stdout != want {
		t.Errorf("first cancel: exit %d, %q\n want %q", code, stdout, want)
	}
	code, stdout, _ = runAelab(t, "sweep", "cancel", short, "--db", db)
	if !regexp.MustCompile(`^sweep `+short+` already cancelled at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d; no trial was queued or running\n$`).MatchString(stdout) || code != 0 {
		t.Errorf("second cancel: exit %d, %q", code, stdout)
	}
}
