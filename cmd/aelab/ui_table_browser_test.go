package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/web"
)

// TestUITableInTheBrowser drives the runs table and the run page of `aelab ui` in Debian's
// Chromium (scripts/browser/table.mjs): the name column pinned and no page overflow at 1,400
// px, the underscore visible in the query box, metric titles from the schema, grouping with
// the mean and min–max, a shared link reopening the same view, the columns remembered, a CSV
// download whose rows match the query, bulk tag and delete, / j k Enter ?, the dark theme and
// its toggle, rename, notes, previews and the per-epoch table of a run mid-way. Screenshots
// go to build/ui-table/ (ui-table-dark.png, ui-groups.png, ui-run-record.png and
// ui-artifact-previews.png in docs/ come from there).
func TestUITableInTheBrowser(t *testing.T) {
	node, root := browserTools(t)
	dir := t.TempDir()
	store, err := tracker.Open(filepath.Join(dir, "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	records := fillTableStore(t, store)

	srv, err := web.New(store, web.Options{PollInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()

	sctx, stop := context.WithTimeout(context.Background(), 4*time.Minute)
	defer stop()
	script := exec.CommandContext(sctx, node, filepath.Join(root, "scripts", "browser", "table.mjs"))
	script.Dir = root
	script.Env = append(os.Environ(), "AELAB_UI_URL=http://"+ln.Addr().String(),
		"AELAB_UI_SHOTS="+filepath.Join(root, "build", "ui-table"), "AELAB_UI_DOWNLOADS="+t.TempDir(),
		"AELAB_UI_RECORD="+records.record, "AELAB_UI_MIDRUN="+records.midRun)
	b, err := script.CombinedOutput()
	t.Logf("%s", b)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}

type tableStore struct {
	record string // a run with a PNG and a JSON artifact
	midRun string // a RUNNING run in its second epoch
}

// fillTableStore logs 36 finished runs through the tracker API as the runner does (three
// models, four seeds each, three learning rates; three epochs each, final test metrics), with
// long param values that make the table wider than the window; a run with artifacts; and a
// running run whose second epoch has CPU samples but no validation yet.
func fillTableStore(t *testing.T, store *tracker.Store) tableStore {
	t.Helper()
	models := []string{aelib.ModelVanilla, aelib.ModelDeep, aelib.ModelDenoise}
	for i := range 36 {
		model, seed, lr := models[i%3], i/3%4, []string{"0.001", "0.003", "0.01"}[i/12]
		run, err := store.StartRun(tracker.RunSpec{Experiment: "table", Name: fmt.Sprintf("%s-s%d-lr%s", model, seed, lr),
			Params: map[string]string{"model": model, "seed": fmt.Sprint(seed), "lr": lr, "epochs": "3",
				"optimizer_description": strings.Repeat("adam with warmup and cosine decay ", 2)},
			Tags: map[string]string{"section": map[string]string{aelib.ModelVanilla: "1.2", aelib.ModelDeep: "1.3", aelib.ModelDenoise: "1.4"}[model]}})
		if err != nil {
			t.Fatal(err)
		}
		base := map[string]float64{aelib.ModelVanilla: 0.12, aelib.ModelDeep: 0.09, aelib.ModelDenoise: 0.1}[model] + float64(seed)*0.002
		for epoch := 1; epoch <= 3; epoch++ {
			v := base * (1 + 0.2*float64(3-epoch))
			if err := experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: epoch, Step: int64(epoch * 100), TrainLoss: v * 1.1, ValLoss: v,
				ValMSE: v / 5, ValMAE: v / 3, Seconds: 2 + float64(i%5), TrainSeconds: 1.5}); err != nil {
				t.Fatal(err)
			}
		}
		if err := run.LogMetrics(map[string]float64{experiments.TestMSE.Name: base / 5, experiments.TestPSNR.Name: 20 - base*10}, 300, 3); err != nil {
			t.Fatal(err)
		}
		if err := run.Finish(tracker.StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
	}

	out := filepath.Join(store.ArtifactRoot(), "record-outputs")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 56, 28))
	for y := range 28 {
		for x := range 56 {
			img.SetGray(x, y, color.Gray{uint8((x*y + x) % 256)})
		}
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"reconstructions.png": pngBytes.Bytes(),
		"summary.json": []byte(`{"val_bce":0.0912,"epochs":3,"note":"<img src=x onerror=alert(1)>"}`)} {
		if err := os.WriteFile(filepath.Join(out, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := store.StartRun(tracker.RunSpec{Experiment: "table", Name: "record_run", Params: map[string]string{"model": aelib.ModelDeep}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.LogArtifact("outputs", out, "figures and a summary"); err != nil {
		t.Fatal(err)
	}
	if err := experiments.LogEpoch(rec, aelib.EpochMetrics{Epoch: 1, Step: 100, TrainLoss: 0.2, ValLoss: 0.1, ValMSE: 0.02, ValMAE: 0.05, Seconds: 2}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(tracker.StatusFinished, ""); err != nil {
		t.Fatal(err)
	}

	mid, err := store.StartRun(tracker.RunSpec{Experiment: "table", Name: "mid_run", Params: map[string]string{"model": aelib.ModelVanilla}})
	if err != nil {
		t.Fatal(err)
	}
	for i, epoch := range []int{1, 1, 2, 2} {
		if err := mid.LogMetrics(map[string]float64{experiments.SystemCPU.Name: 80, experiments.SystemRSS.Name: 3e8}, int64(i*50), epoch); err != nil {
			t.Fatal(err)
		}
	}
	if err := experiments.LogEpoch(mid, aelib.EpochMetrics{Epoch: 1, Step: 100, TrainLoss: 0.3, ValLoss: 0.2, ValMSE: 0.04, ValMAE: 0.1, Seconds: 2}); err != nil {
		t.Fatal(err)
	}
	return tableStore{record: rec.ID(), midRun: mid.ID()}
}
