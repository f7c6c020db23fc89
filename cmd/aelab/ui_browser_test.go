package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/testenv"
	"github.com/aelab/aelab/tracker"
)

// browserTools returns node and the repository root (where node_modules holds playwright-core),
// or skips the test saying what is missing; with CI=true a missing tool fails it instead.
func browserTools(t *testing.T) (node, root string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped in -short mode")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	missing := func(what string) {
		testenv.Missing(t, what+" (make setup installs it)")
	}
	if node, err = exec.LookPath("node"); err != nil {
		missing("node not found")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "playwright-core")); err != nil {
		missing("node_modules/playwright-core not installed")
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		if _, err := exec.LookPath("chromium-headless-shell"); err != nil {
			missing("no Chromium")
		}
	}
	return node, root
}

// TestUIInTheBrowser drives `aelab ui` in Debian's Chromium (scripts/browser/ui.mjs) against a
// store filled by real short trainings: a query shows only the matching runs, a bad one the
// caret under the bad token, two selected runs give two curves on the compare page, a run's
// page shows its reconstructions, a tag survives a reload, a run named <script>… is text, and
// a training started during the test appears and its curve grows without a reload.
// Screenshots go to build/ui/.
func TestUIInTheBrowser(t *testing.T) {
	node, root := browserTools(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "aelab.db")
	store, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ model, name string }{
		{aelib.ModelVanilla, ""}, {aelib.ModelDenoise, ""}, {aelib.ModelDeep, "<script>alert(1)</script>"},
	} {
		p, err := experiments.LookupPreset(r.model)
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.Config
		cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 3, 512, 256
		if r.model == aelib.ModelDenoise {
			cfg.Epochs, cfg.TrainSubset = 2, 256
		}
		if _, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Name: r.name, Section: p.Section, Source: "test"}, experiments.Options{}); err != nil {
			t.Fatalf("training %s: %v", r.model, err)
		}
	}
	store.Close()

	url, _ := startUI(t, "ui", "--db", db, "--addr", "127.0.0.1:0")

	const liveEpochs = 8
	live := fmt.Sprintf("train --model vanilla --epochs %d --subset 20000 --test-subset 500 --name live-e2e --progress=false --db %s", liveEpochs, db)
	trainJSON, _ := json.Marshal(map[string]any{"cmd": os.Args[0], "args": []string{}, "env": map[string]string{childEnv: live}})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	script := exec.CommandContext(ctx, node, filepath.Join(root, "scripts", "browser", "ui.mjs"))
	script.Dir = root
	script.Env = append(os.Environ(), "AELAB_UI_URL="+url, "AELAB_UI_SHOTS="+filepath.Join(root, "build", "ui"),
		"AELAB_UI_TRAIN="+string(trainJSON), fmt.Sprint("AELAB_UI_TRAIN_EPOCHS=", liveEpochs))
	b, err := script.CombinedOutput()
	t.Logf("%s", b)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}
