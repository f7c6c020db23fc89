package nbkit

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// TestNotebookTrainAndLatest trains a tiny run the way a notebook's training cell does and
// loads it back the way a later cell does.
func TestNotebookTrainAndLatest(t *testing.T) {
	t.Setenv("AELAB_DB", filepath.Join(t.TempDir(), "aelab.db"))
	nb := New("99_test", "1.2")
	store := OpenStore()
	defer store.Close()
	cfg := Must(aelib.DefaultConfig(aelib.ModelVanilla))
	cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 512, 128

	stdout := os.Stdout // Train writes its lines to the cell's output
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	read := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); read <- b }()
	res := nb.Train(store, cfg, Run{Role: "main", Tags: map[string]string{"extra": "x"}})
	os.Stdout = stdout
	w.Close()
	out := string(<-read)
	for _, want := range []string{"epoch 1/2", "epoch 2/2", "run " + res.RunID[:8] + ": 2 epochs"} {
		if !strings.Contains(out, want) {
			t.Errorf("the cell's output lacks %q:\n%s", want, out)
		}
	}

	run, ae := nb.Latest(store, `tags.role = "main"`)
	if run.ID != res.RunID || ae == nil || run.Source != "notebook" {
		t.Fatalf("Latest found run %s (source %q), want %s from the notebook", run.ID, run.Source, res.RunID)
	}
	for k, want := range map[string]string{"notebook": "99_test", "section": "1.2", "role": "main", "extra": "x"} {
		if run.Tags[k] != want {
			t.Errorf("tag %s = %q, want %q", k, run.Tags[k], want)
		}
	}
	h := History(store, run, "val_bce", "validation BCE")
	if h.Name != "validation BCE" || len(h.X) != 2 || h.X[1] != 2 || h.Y[1] != res.History.Epochs[1].ValLoss {
		t.Errorf("history %+v", h)
	}
	if got := nb.Runs(""); got != `tags.notebook = "99_test"` {
		t.Errorf("Runs(\"\") = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Latest with no matching run did not stop the cell")
		}
	}()
	nb.Latest(store, `tags.role = "none"`)
}

func TestQuickAndMust(t *testing.T) {
	t.Setenv("AELAB_QUICK", "")
	if Quick() {
		t.Error("Quick with AELAB_QUICK empty")
	}
	t.Setenv("AELAB_QUICK", "1")
	if !Quick() {
		t.Error("not Quick with AELAB_QUICK=1")
	}
	if Must(3, nil) != 3 {
		t.Error("Must(3, nil) != 3")
	}
	defer func() {
		if recover() == nil {
			t.Error("Must with an error did not panic")
		}
	}()
	Must(tracker.Open(filepath.Join(t.TempDir(), "no", "such", "dir", "\x00")))
}

// TestSettingsFromCellFlags parses flags as a cell's %% line gives them (GoNB's main calls
// flag.Parse on the flags New defines), on a flag set of its own.
func TestSettingsFromCellFlags(t *testing.T) {
	New("99_test", "1.2")
	New("99_other", "") // a second notebook in one program does not define the flags again
	if flag.Lookup("epochs") == nil || flag.Lookup("noise") == nil {
		t.Fatal("New did not define the training flags on the command line")
	}
	fs := flag.NewFlagSet("cell", flag.ContinueOnError)
	nb := &Notebook{Name: "99_test", flags: experiments.NewConfigFlags()}
	nb.flags.Register(fs)
	t.Setenv("AELAB_QUICK", "")
	course := nb.Settings(aelib.ModelDenoise)
	want := Must(aelib.DefaultConfig(aelib.ModelDenoise))
	if course.Epochs != want.Epochs || course.Noise != want.Noise || course.TrainSubset != 0 {
		t.Errorf("no flags, not quick: %+v, want the course's %+v", course, want)
	}
	t.Setenv("AELAB_QUICK", "1")
	quick := nb.Settings(aelib.ModelDenoise)
	if quick.TrainSubset == 0 || quick.Epochs >= want.Epochs {
		t.Errorf("quick: %+v, want fewer epochs on a subset", quick)
	}
	if err := fs.Parse([]string{"--epochs=1", "--noise=0.3"}); err != nil {
		t.Fatal(err)
	}
	got := nb.Settings(aelib.ModelDenoise)
	if got.Epochs != 1 || got.Noise != 0.3 || got.TrainSubset != quick.TrainSubset {
		t.Errorf("flags --epochs=1 --noise=0.3 in quick mode: %+v", got)
	}
	for _, bad := range [][2]string{{"epochs", "-1"}, {"noise", "NaN"}, {"lr", "0"}} {
		if err := fs.Set(bad[0], bad[1]); err == nil {
			t.Errorf("--%s=%s: no error", bad[0], bad[1])
		}
	}
	if err := fs.Set("model", aelib.ModelDeep); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("--model deep in a cell that trains the denoiser did not stop the cell")
		}
	}()
	nb.Settings(aelib.ModelDenoise)
}

func TestWrap(t *testing.T) {
	msg := `typo.yaml:3: parameters.filter: unknown parameter "filter" (valid: dataset, epochs, batch, subset, test-subset, lr, noise, seed, backend, widths, filters)`
	got := Wrap(msg + "\nshort")
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || lines[2] != "short" {
		t.Fatalf("Wrap gave %q", got)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > LineWidth {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}
	if strings.ReplaceAll(got, "\n", " ") != msg+" short" {
		t.Errorf("Wrap changed the words: %q", got)
	}
}
