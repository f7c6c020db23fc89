package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/tracker"
)

// childEnv makes the test binary run `aelab` with the arguments in it, so a test can kill a
// real training process.
const childEnv = "AELAB_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Exit(runMain(strings.Fields(args), os.Stdout, os.Stderr))
	}
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train", "--model", "nope"},
		{"train", "--epochs", "-3"},
		{"train", "--bogus"},
		{"train", "--dataset", "cifar"},
		{"train", "--checkpoint", "/no/such/folder/ckpt"},
		{"train", "extra"},
		{"summary", "--model", "pca"},
		{"train", "--model", "sparse", "--penalty", "l3"},
		{"train", "--model", "vae", "--latent", "0"},
		{"train", "--model", "sparse", "--rho", "1.5"},
		{"nosuchcommand"},
	} {
		code, _, stderr := runAelab(t, args...)
		if code != 2 || stderr == "" || strings.Count(strings.TrimSpace(stderr), "\n") > 3 {
			t.Errorf("aelab %v: exit %d, stderr %q; want 2 and a short message", args, code, stderr)
		}
	}
}

func TestSummary(t *testing.T) {
	for model, want := range map[string]string{"vanilla": "476,720", "deep": "222,384", "denoise": "28,353"} {
		code, out, _ := runAelab(t, "summary", "--model", model)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("summary %s: exit %d, output lacks %s:\n%s", model, code, want, out)
		}
	}
}

func TestTrainLogsTheRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	code, out, stderr := runAelab(t, "train", "--model", "deep", "--epochs", "2", "--subset", "512", "--test-subset", "256", "--db", db, "--progress=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "backend") || !strings.Contains(out, "222,384 params") {
		t.Errorf("output:\n%s", out)
	}
	store, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracker.Search{Filter: `params.model = "deep"`})
	if err != nil || len(runs) != 1 || runs[0].Status != tracker.StatusFinished || runs[0].Source != "cli" {
		t.Fatalf("runs %v, %v", runs, err)
	}
}

func TestRunsReproduce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	runs := trainRuns(t, db, []string{"--model", "vanilla", "--epochs", "1", "--subset", "512", "--test-subset", "256"})
	code, out, stderr := runAelab(t, "runs", "reproduce", runs[0].ShortID(), "--db", db, "--progress=false")
	if code != 0 {
		t.Fatalf("reproduce: exit %d: %s", code, stderr)
	}
	// Same seed, same backend: the validation loss is reproduced exactly.
	if !strings.Contains(out, "reproduces "+runs[0].ShortID()) || !regexp.MustCompile(`val_bce\s+\S+\s+\S+\s+\+0\s`).MatchString(out) {
		t.Errorf("reproduce output:\n%s", out)
	}
	if code, _, _ := runAelab(t, "runs", "reproduce", "ffffffff", "--db", db); code == 0 {
		t.Error("reproducing an unknown run succeeded")
	}
}

// TestTrainingProcessKilled kills real `aelab train` processes mid-run: SIGKILL leaves the run
// LOST, SIGINT ends it KILLED; both keep the epochs logged before.
func TestTrainingProcessKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("trains in child processes")
	}
	for _, tc := range []struct {
		signal syscall.Signal
		want   tracker.Status
	}{{syscall.SIGKILL, tracker.StatusLost}, {syscall.SIGINT, tracker.StatusKilled}} {
		t.Run(tc.signal.String(), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "aelab.db")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=train --model vanilla --epochs 1000 --subset 1024 --test-subset 256 --progress=false --db "+db)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			store := waitForEpochs(t, db, 2)
			defer store.Close()
			cmd.Process.Signal(tc.signal)
			cmd.Wait()

			runs, err := store.SearchRuns(tracker.Search{})
			if err != nil || len(runs) != 1 {
				t.Fatalf("runs %v, %v", runs, err)
			}
			if runs[0].Status != tc.want || runs[0].Error == "" {
				t.Errorf("after %s: status %s (%q), want %s with a reason", tc.signal, runs[0].Status, runs[0].Error, tc.want)
			}
			hist, err := store.MetricHistory(runs[0].ID, "val_bce")
			if err != nil || len(hist) < 2 {
				t.Errorf("epochs kept: %d, %v", len(hist), err)
			}
		})
	}
}

// waitForEpochs opens the store once it exists and waits until a run logged n epochs.
func waitForEpochs(t *testing.T, db string, n int) *tracker.Store {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if _, err := os.Stat(db); err != nil {
			continue
		}
		store, err := tracker.Open(db)
		if err != nil {
			continue
		}
		runs, err := store.SearchRuns(tracker.Search{})
		if err == nil && len(runs) == 1 {
			if hist, _ := store.MetricHistory(runs[0].ID, "val_bce"); len(hist) >= n {
				return store
			}
		}
		store.Close()
	}
	t.Fatalf("no run logged %d epochs in %s", n, db)
	return nil
}
