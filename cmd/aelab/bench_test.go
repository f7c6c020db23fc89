package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/bench"
	"github.com/aelab/aelab/tracker"
)

func TestBenchJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := runMain([]string{"bench", "--model", "vanilla", "--steps", "2", "--backend", "go", "--test-subset", "100", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var results []benchResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("bad JSON %q: %v", out.String(), err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	r := results[0]
	if r.Model != "vanilla" || r.Backend != "go" || r.Loop != "host" || r.Device == "" || !r.Extrapolated ||
		r.StepsPerEpoch != 2 || r.TimedSteps != 2 || r.FullEpochSteps != 235 || r.TrainExamples != 512 {
		t.Errorf("unexpected result %+v", r)
	}
	if !(r.StepsPerSec > 0 && r.SecPerEpoch > 0 && r.SamplesPerSec > 0 && r.CompileSec > 0 && r.PeakRSSMiB > 0 && r.FinalLoss > 0) {
		t.Errorf("missing measurements: %+v", r)
	}
}

func TestBenchText(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runMain([]string{"bench", "--model", "deep", "--steps", "1", "--backend", "go", "--test-subset", "50"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if s := out.String(); !strings.Contains(s, "deep") || !strings.Contains(s, "s/epoch") || !strings.Contains(s, "steps/s") {
		t.Errorf("output %q", s)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--model", "nope"},
		{"bench", "--epochs", "2", "--steps", "3"},
		{"bench", "--loop", "sideways"},
		{"bench", "extra"},
		{"bench", "--steps", "-1"},
		{"bench", "--peer", "tensorflow"},
		{"bench", "--peer", "pytorch", "--loop", "both"},
		{"bench", "--peer", "pytorch", "--model", "vae"},
		{"bench", "--course", "--epochs", "2"},
	} {
		var out, errOut bytes.Buffer
		if code := runMain(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}

// The side by side with the PyTorch reference, through the command: both sides measured, the
// peer's run logged in the store. It needs Debian's python3-torch, which `make bench-peer`
// installs and `make setup` does not (issue #14), so it skips where that is missing.
func TestBenchPeerPyTorch(t *testing.T) {
	if err := exec.Command(bench.DefaultPython, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (%v): %s", bench.DefaultPython, err, bench.InstallHint)
	}
	db := filepath.Join(t.TempDir(), "aelab.db")
	var out, errOut bytes.Buffer
	if code := runMain([]string{"bench", "--peer", "pytorch", "--model", "deep", "--steps", "3", "--test-subset", "200", "--db", db}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"Side by side on ", "load average", "| model | epochs | aelab s/epoch | PyTorch s/epoch | aelab / PyTorch |", "| deep | 2 |", "(extrapolated)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := runMain([]string{"bench", "--peer", "pytorch", "--model", "vanilla", "--steps", "2", "--test-subset", "100", "--db", db, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var results []benchResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil || len(results) != 1 || results[0].Peer == nil {
		t.Fatalf("JSON %q: %v", out.String(), err)
	}
	r, p := results[0], results[0].Peer
	if p.Name != "pytorch" || p.Epochs != 2 || !(p.SecPerEpoch > 0) || !p.Extrapolated || math.Abs(p.Ratio-r.SecPerEpoch/p.SecPerEpoch) > 1e-9 ||
		!(p.PeakRSSMiB > 0) || len(p.RSSMiB) != 2 || len(r.RSSMiB) != 2 || !(p.FinalLoss > 0) || !(p.TestMSE > 0) || !strings.Contains(p.Info, "PyTorch") {
		t.Errorf("peer result %+v", p)
	}

	store, err := tracker.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.SearchRuns(tracker.Search{Filter: `tags.peer = "pytorch"`})
	if err != nil || len(runs) != 2 {
		t.Fatalf("%d peer runs in the store, want 2 (%v)", len(runs), err)
	}
	for _, run := range runs {
		if run.Status != tracker.StatusFinished || run.Tags["env.backend"] != "pytorch" || run.Params["train_subset"] == "" {
			t.Errorf("peer run %s: %s, tags %v, params %v", run.ShortID(), run.Status, run.Tags, run.Params)
		}
		for _, key := range []string{"test_mse", "val_bce", "params", "seconds_per_epoch"} {
			if _, ok := run.Metrics[key]; !ok {
				t.Errorf("peer run %s lacks %s", run.ShortID(), key)
			}
		}
	}
	if runs[0].ID != p.RunID {
		t.Errorf("the newest peer run is %s, the bench reported %s", runs[0].ID, p.RunID)
	}
}
