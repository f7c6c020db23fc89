package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/metrics"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// reportStore is a store with one real, tiny vanilla run (1 epoch, 256 images).
func reportStore(t *testing.T) string {
	t.Helper()
	s, db := newTestStore(t)
	defer s.Close()
	cfg, err := aelib.DefaultConfig("vanilla")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 1, 256, 128
	if _, err := experiments.Run(context.Background(), s, experiments.Spec{Config: cfg, Section: "1.2", Source: "test"}, experiments.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestReportCommand(t *testing.T) {
	db := reportStore(t)
	out := filepath.Join(t.TempDir(), "report")
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"report", "--db", db, "--out", out, "--images", "4"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, name := range []string{"index.html", "report.md", "val_bce.png", "val_bce.svg", "params.png", "digit_mse.svg"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "index.html") || !strings.Contains(stdout.String(), "claims") {
		t.Errorf("stdout: %s", stdout.String())
	}
	html, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(html), "476,720") {
		t.Error("index.html lacks the vanilla parameter count")
	}

	mdOnly := filepath.Join(t.TempDir(), "md")
	if code := runMain([]string{"report", "--db", db, "--out", mdOnly, "--format", "md", "--no-grids"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--format md: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(mdOnly, "index.html")); !os.IsNotExist(err) {
		t.Error("--format md wrote index.html")
	}

	for _, bad := range [][]string{
		{"--format", "pdf"},
		{"--format", "html,docx"},
		{"--where", `params.model ==`},
		{"--images", "0"},
		{"extra"},
		{"--nope"},
	} {
		stderr.Reset()
		args := append([]string{"report", "--db", db, "--out", filepath.Join(t.TempDir(), "x")}, bad...)
		if code := runMain(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, stderr.String())
		}
	}
	// No run matches: a failure, not a usage error.
	if code := runMain([]string{"report", "--db", db, "--out", filepath.Join(t.TempDir(), "y"), "--where", `params.model = "nope"`}, &stdout, &stderr); code != 1 {
		t.Errorf("no matching run: exit %d, want 1", code)
	}
}

// A run whose metrics are NaN, infinite or huge (a diverged model, a damaged store) is reported,
// its values shown as "NaN" and "–" (issue #10, item 4: aelib.Thousands(int(NaN)) recursed
// until the stack overflowed and killed `aelab report`).
func TestReportShowsNonFiniteMetrics(t *testing.T) {
	s, db := newTestStore(t)
	cfg, _ := aelib.DefaultConfig(aelib.ModelDenoise)
	cfg.Epochs = 2
	run, err := experiments.StartRun(s, experiments.Spec{Config: cfg, Source: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hist := &aelib.History{StepsPerEpoch: 1, Seconds: math.Inf(1)}
	for e := 1; e <= 2; e++ {
		m := aelib.EpochMetrics{Epoch: e, Step: int64(e), TrainLoss: math.NaN(), ValLoss: math.Inf(1), ValMSE: 1e300}
		if err := experiments.LogEpoch(run, m); err != nil {
			t.Fatal(err)
		}
		hist.Epochs = append(hist.Epochs, m)
	}
	arch, _ := cfg.Architecture()
	res := &experiments.Result{Model: &aelib.Autoencoder{Config: cfg, Arch: arch}, History: hist, Evaluation: experiments.Evaluation{
		Test:      metrics.Summary{MSE: math.NaN(), PSNR: math.Inf(1), SSIM: math.Inf(-1)},
		Denoising: &metrics.Denoising{NoisyMSE: 0.1, DenoisedMSE: math.NaN(), ImprovementPct: math.Inf(-1)},
	}}
	if err := experiments.LogResults(run, res); err != nil {
		t.Fatal(err)
	}
	damaged := map[string]float64{experiments.ParamCount.Name: math.NaN(), experiments.EncoderParams.Name: 1e300,
		experiments.ModelBytesF32.Name: math.Inf(1), experiments.ModelBytesF16.Name: -1e19}
	if err := run.LogMetrics(damaged, 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := run.Finish(tracker.StatusFinished, ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := runAelab(t, "report", "--db", db, "--out", out, "--no-grids")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "report: 1 runs") {
		t.Errorf("stdout: %s", stdout)
	}
	for _, name := range []string{"index.html", "report.md"} {
		b, _ := os.ReadFile(filepath.Join(out, name))
		if !strings.Contains(string(b), "<td class=\"num\">NaN</td>") && !strings.Contains(string(b), "| NaN |") || !strings.Contains(string(b), "–") {
			t.Errorf("%s shows no NaN or –", name)
		}
	}
}

// report --out replaces what is in the folder, links included, and never writes through a link
// (issue #10, item 12: with index.html linked to another file, that file was overwritten).
func TestReportReplacesLinksInTheOutputFolder(t *testing.T) {
	db := reportStore(t)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "report")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	victims := map[string]string{}
	for _, name := range []string{"index.html", "report.md", "val_bce.png"} {
		victim := filepath.Join(tmp, "victim-"+name)
		if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, filepath.Join(out, name)); err != nil {
			t.Fatal(err)
		}
		victims[name] = victim
	}
	if code, _, stderr := runAelab(t, "report", "--db", db, "--out", out, "--no-grids"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, victim := range victims {
		if b, _ := os.ReadFile(victim); string(b) != "keep me" {
			t.Errorf("%s was written through the link %s", victim, name)
		}
		if fi, err := os.Lstat(filepath.Join(out, name)); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			t.Errorf("%s is not the report's own file: %v, %v", name, fi, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".*.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
