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
	"github.com/aelab/aelab/internal/testenv"
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
		{"bench", "--peer", "pytorch", "--rounds", "0"},
		{"bench", "--peer", "pytorch", "--steps", "3", "--rounds", "5"},
		{"bench", "--check-peer", "--steps", "3"},
		{"bench", "--check-peer", "--peer", "tensorflow"},
		{"bench", "--check-peer", "--model", "sparse"},
		{"bench", "--check-peer", "--json"},
	} {
		var out, errOut bytes.Buffer
		if code := runMain(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}

// needPyTorch ends t where Debian's Python cannot import torch: make test, make bench-peer and
// scripts/setup.sh --peer install it; make setup does not.
func needPyTorch(t *testing.T) {
	t.Helper()
	err := exec.Command(bench.DefaultPython, "-c", "import torch").Run()
	testenv.Need(t, err, bench.DefaultPython+" cannot import torch: "+bench.InstallHint)
}

// The side by side with the PyTorch reference, through the command: both sides measured, the
// peer's run logged in the store.
func TestBenchPeerPyTorch(t *testing.T) {
	needPyTorch(t)
	db := filepath.Join(t.TempDir(), "aelab.db")
	var out, errOut bytes.Buffer
	if code := runMain([]string{"bench", "--peer", "pytorch", "--model", "deep", "--steps", "3", "--test-subset", "200", "--db", db}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"Side by side on ", "load average", "| model | rounds | aelab s/epoch | PyTorch s/epoch | aelab / PyTorch |", "| deep | 1 |", "(extrapolated)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := runMain([]string{"bench", "--peer", "pytorch", "--model", "vanilla", "--subset", "512", "--rounds", "2", "--test-subset", "100", "--db", db, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var results []benchResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil || len(results) != 1 || results[0].Peer == nil {
		t.Fatalf("JSON %q: %v", out.String(), err)
	}
	r, p := results[0], results[0].Peer
	if p.Name != "pytorch" || p.Epochs != 3 || !(p.SecPerEpoch > 0) || !p.Extrapolated ||
		!(p.PeakRSSMiB > 0) || len(p.RSSMiB) != 3 || len(r.RSSMiB) != 3 || !(p.FinalLoss > 0) || !(p.TestMSE > 0) || !strings.Contains(p.Info, "PyTorch") {
		t.Errorf("peer result %+v", p)
	}
	// Two rounds: the epochs after the first, compared one by one; the ratio is their median.
	if len(r.EpochSeconds) != 2 || len(p.EpochSeconds) != 2 || len(p.Ratios) != 2 {
		t.Fatalf("rounds: aelab %v, peer %v, ratios %v; want 2 of each", r.EpochSeconds, p.EpochSeconds, p.Ratios)
	}
	for i := range 2 {
		if math.Abs(p.Ratios[i]-r.EpochSeconds[i]/p.EpochSeconds[i]) > 1e-9 {
			t.Errorf("round %d: ratio %v, want %v / %v", i+1, p.Ratios[i], r.EpochSeconds[i], p.EpochSeconds[i])
		}
	}
	if math.Abs(p.Ratio-(p.Ratios[0]+p.Ratios[1])/2) > 1e-9 || math.Abs(r.SecPerEpoch-(r.EpochSeconds[0]+r.EpochSeconds[1])/2) > 1e-9 {
		t.Errorf("medians: ratio %v of %v, aelab %v of %v", p.Ratio, p.Ratios, r.SecPerEpoch, r.EpochSeconds)
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

// The reference check, through the command: both PyTorch scripts run on their own, alternately,
// and the table says whether the reference is as fast as the plain script. Whether it is
// depends on this machine's load, so either verdict is accepted, each with its exit status.
func TestBenchCheckPeer(t *testing.T) {
	needPyTorch(t)
	var out, errOut bytes.Buffer
	code := runMain([]string{"bench", "--check-peer", "--model", "deep", "--subset", "1024", "--rounds", "2", "--epochs", "2"}, &out, &errOut)
	for _, want := range []string{"Reference check on ", "2 rounds of 2 epochs each", "| model | plain s/epoch | reference s/epoch | reference / plain | verdict |", "| deep | "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	switch fast := strings.Contains(out.String(), "| as fast: "); {
	case code == 0 && fast:
	case code == 1 && !fast && strings.Contains(errOut.String(), "deep: the reference (") && strings.Contains(errOut.String(), "is slower than every round of the plain script"):
	default:
		t.Errorf("exit %d with table:\n%s\nstderr: %s", code, out.String(), errOut.String())
	}
}

// The check's verdict and its note on a wide spread, from given rounds.
func TestPrintPeerCheck(t *testing.T) {
	checks := []peerCheck{
		{Model: "vanilla", Plain: bench.SpreadOf([]float64{1.40, 1.45, 1.50}), Reference: bench.SpreadOf([]float64{1.44, 1.46, 1.49})},
		{Model: "denoise", Plain: bench.SpreadOf([]float64{19, 20, 25}), Reference: bench.SpreadOf([]float64{26, 27, 28})},
	}
	if !checks[0].fast() || checks[1].fast() {
		t.Fatalf("fast: vanilla %v, denoise %v; want true, false", checks[0].fast(), checks[1].fast())
	}
	var out bytes.Buffer
	printPeerCheck(&out, checks, 3, 3, "the machine", "1.00 1.00 1.00", "2.00 1.50 1.10")
	for _, want := range []string{
		"| vanilla | 1.450 (1.400–1.500) | 1.460 (1.440–1.490) | 1.01 | as fast: within the plain script's spread or faster |",
		"| denoise | 20.000 (19.000–25.000) | 27.000 (26.000–28.000) | 1.35 | SLOWER than every plain round |",
		"Spread wider than 20 % (denoise): the machine's load (1.00 1.00 1.00 before, 2.00 1.50 1.10 after)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
