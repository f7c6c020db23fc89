package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/tracker"
)

// oneLine checks a usage error: exit 2 and a single line on stderr containing want.
func oneLine(t *testing.T, args []string, code int, stderr, want string) {
	t.Helper()
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Errorf("aelab %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(args, " "), code, stderr, want)
	}
}

// NaN and ±Inf are usage errors for every float flag, found before anything is created
// (issue #10, item 7: exit 1 "json: unsupported value: NaN" after an empty store was created).
func TestTrainRefusesNonFiniteFlagsBeforeCreatingAnything(t *testing.T) {
	for _, flags := range [][]string{
		{"--lr", "NaN"}, {"--lr", "Inf"}, {"--noise", "NaN"}, {"--model", "sparse", "--rho", "NaN"},
		{"--model", "vae", "--beta", "Inf"}, {"--model", "sparse", "--lambda", "NaN"}, {"--model", "contractive", "--lambda", "-Inf"},
	} {
		db := filepath.Join(t.TempDir(), "aelab.db")
		args := append([]string{"train", "--db", db}, flags...)
		code, _, stderr := runAelab(t, args...)
		oneLine(t, args, code, stderr, "must be a finite number")
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("aelab %s created %s", strings.Join(args, " "), db)
		}
	}
}

// A backend that does not exist is one line naming those that do (issue #10, item 6: a
// 17-line panic).
func TestTrainUnknownBackendNamesTheBackends(t *testing.T) {
	for _, backend := range []string{"nosuch", ":"} {
		db := filepath.Join(t.TempDir(), "aelab.db")
		args := []string{"train", "--backend", backend, "--db", db}
		code, _, stderr := runAelab(t, args...)
		oneLine(t, args, code, stderr, "(backends here: ")
		if !strings.Contains(stderr, "go") || strings.Contains(stderr, "goroutine") {
			t.Errorf("--backend %s: %q", backend, stderr)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("--backend %s created the store", backend)
		}
	}
}

// No flag value means "the default" (issue #10, item 10: --epochs -1 trained 10 epochs,
// --noise -1 gave the default), and the stored params and config are the settings in effect
// (--subset 100000 was recorded as such while 60,000 images trained; item 2: --batch 1000000
// on 300 images padded every batch to a million rows).
func TestTrainRecordsTheSettingsInEffect(t *testing.T) {
	for _, flags := range [][]string{{"--epochs", "-1"}, {"--noise", "-1"}, {"--subset", "0"}, {"--model", "vanilla", "--latent", "2"}} {
		args := append([]string{"train", "--db", filepath.Join(t.TempDir(), "x.db")}, flags...)
		code, _, stderr := runAelab(t, args...)
		oneLine(t, args, code, stderr, "aelab train: ")
	}

	db := filepath.Join(t.TempDir(), "aelab.db")
	code, out, stderr := runAelab(t, "train", "--epochs", "0", "--subset", "100000", "--test-subset", "256", "--db", db, "--progress=false")
	if code != 0 || !strings.Contains(out, "train subset 100000 covers all 60000 training examples") {
		t.Fatalf("--subset 100000: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runAelab(t, "train", "--epochs", "1", "--subset", "300", "--batch", "1000000", "--test-subset", "256", "--db", db, "--progress=false")
	if code != 0 || !strings.Contains(out, "batch 1000000 is more than the 300 training examples: batch 300") {
		t.Fatalf("--batch 1000000: exit %d\n%s\n%s", code, out, stderr)
	}
	store, err := tracker.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracker.Search{OrderBy: "attributes.start_time asc"})
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	var cfg struct {
		TrainSubset int `json:"train_subset"`
		BatchSize   int `json:"batch_size"`
	}
	if _, ok := runs[0].Params["train_subset"]; ok || json.Unmarshal(runs[0].Config, &cfg) != nil || cfg.TrainSubset != 0 {
		t.Errorf("--subset 100000 recorded as params %v, config %s", runs[0].Params, runs[0].Config)
	}
	if runs[1].Params["batch_size"] != "300" || json.Unmarshal(runs[1].Config, &cfg) != nil || cfg.BatchSize != 300 {
		t.Errorf("--batch 1000000 on 300 images recorded as params %v, config %s", runs[1].Params, runs[1].Config)
	}
}

// AELAB_DATA_DIR that does not exist is an error naming it, before a store is created
// (issue #10, item 11: it fell back to the module cache's MNIST and exited 0).
func TestTrainDataDirMustExist(t *testing.T) {
	t.Setenv("AELAB_DATA_DIR", "/does-not-exist")
	db := filepath.Join(t.TempDir(), "aelab.db")
	code, _, stderr := runAelab(t, "train", "--epochs", "1", "--subset", "256", "--db", db, "--progress=false")
	if code != 1 || stderr != "aelab train: AELAB_DATA_DIR=/does-not-exist: no such folder\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("the store was created")
	}
}

// A --checkpoint folder that holds another run's checkpoint is refused before training, and that
// checkpoint stays as it was (issue #10, item 1: run B loaded run A's weights over its own,
// deleted A's files and left X with B's config, A's weights and both runs pointing at it).
func TestTrainRefusesACheckpointFolderInUse(t *testing.T) {
	tmp := t.TempDir()
	db, ckpt := filepath.Join(tmp, "aelab.db"), filepath.Join(tmp, "X")
	tiny := []string{"--epochs", "1", "--subset", "256", "--test-subset", "128"}
	trainRuns(t, db, slices.Concat(tiny, []string{"--seed", "1", "--checkpoint", ckpt}))
	before := snapshot(t, ckpt)

	args := slices.Concat([]string{"train", "--db", db, "--progress=false", "--seed", "2", "--checkpoint", ckpt}, tiny)
	code, _, stderr := runAelab(t, args...)
	oneLine(t, args, code, stderr, "aelab train: --checkpoint "+ckpt+": folder is not empty (it holds a checkpoint: model vanilla, seed 1, epochs 1); give a new or empty folder")
	if after := snapshot(t, ckpt); !maps.Equal(before, after) {
		t.Errorf("the checkpoint folder changed: %v → %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	store, err := tracker.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if runs, _ := store.SearchRuns(tracker.Search{}); len(runs) != 1 {
		t.Errorf("%d runs in the store, want the first alone", len(runs))
	}
	if ae, err := aelib.Load(ckpt); err != nil || ae.Config.Seed != 1 {
		t.Errorf("the checkpoint loads as %+v, %v", ae, err)
	}
}

// snapshot maps the files of a folder to their contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}
