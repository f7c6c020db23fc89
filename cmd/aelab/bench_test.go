package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
	} {
		var out, errOut bytes.Buffer
		if code := runMain(args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}
