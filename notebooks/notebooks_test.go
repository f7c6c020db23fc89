package notebooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aelab/aelab/internal/testenv"
	"github.com/aelab/aelab/tracker"
)

// expected lists text each executed notebook must show, and whether its runs must be in the store.
var expected = map[string]struct {
	shows []string
	runs  bool
}{
	"01_introduction": {shows: []string{"PCA, 32 components", "ROC AUC", "correlation of per-image MSE and BCE"}, runs: true},
	// The live view's last state stays in the saved notebook: its chart and its finished progress line.
	"02_vanilla": {shows: []string{"476,720", "24.5:1", "val BCE", `class="aelab-live"`, `<img alt="vanilla autoencoder: loss per epoch"`, "finished · loss"}, runs: true},
	"03_deep":    {shows: []string{"222,384", "53% fewer", "Vanilla vs deep"}, runs: true},
	// Quick mode still teaches the lesson: the cell says so only when its numbers show it.
	"04_denoising": {shows: []string{"28,353", "matches the course's final table", "denoised output",
		"the denoised outputs are closer to the clean digits than the noisy inputs"}, runs: true},
	"05_comparison": {shows: []string{"aelab-report", "Course claims audit"}},
	"07_sweep":      {shows: []string{"4 trials of sweep denoise-filters-noise-quick", `unknown parameter "filter"`, "trials done", "Parallel coordinates", "Best trial"}},
	"06_beyond":     {shows: []string{"Code statistics on", "the KL penalty moves the mean activation", "contractive vs vanilla: ‖J‖²_F", "new digits decoded from z ~ N(0, I)", "decoded grid of the latent plane", "Six models: the newest finished run of each"}, runs: true},
	// 08 defines its own model and tracks a plain GoMLX classifier on its codes.
	"08_your_own_model": {shows: []string{"439,728", "bce+code_l2", "Your model vs the course", "Fashion-MNIST classifier: codes vs raw pixels",
		"test accuracy: codes"}, runs: true},
}

// unavailable fails the test in CI and skips it elsewhere: the notebooks need Jupyter and GoNB.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + " (run `bash scripts/setup.sh` or `make setup`)"
	testenv.Missing(t, "notebooks not executed: "+msg)
}

func goBin(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env GOPATH: %v", err)
	}
	return filepath.Join(strings.SplitN(strings.TrimSpace(string(out)), string(os.PathListSeparator), 2)[0], "bin")
}

// TestNotebooks executes every notebook headless in quick mode, in order (03 compares with the
// run of 02, 05 reports on 02–04, 06 uses 02's vanilla run as its baseline and lines up all six
// models), against a temporary store, and checks their outputs.
func TestNotebooks(t *testing.T) {
	if testing.Short() {
		t.Skip("executing the notebooks takes minutes; skipped with -short")
	}
	jupyter := "/usr/bin/jupyter" // Debian's; the first python3 on PATH may lack its packages
	if _, err := os.Stat(jupyter); err != nil {
		if jupyter, err = exec.LookPath("jupyter"); err != nil {
			unavailable(t, "jupyter is not installed")
		}
	}
	bin := goBin(t)
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, tool := range []string{"gonb", "goimports"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			if _, err := exec.LookPath(tool); err != nil {
				unavailable(t, "%s is not installed", tool)
			}
		}
	}
	if out, err := exec.Command(jupyter, "kernelspec", "list").Output(); err != nil || !bytes.Contains(out, []byte("gonb")) {
		unavailable(t, "no gonb Jupyter kernel (jupyter kernelspec list: %v)", err)
	}

	notebooks, err := filepath.Glob("[0-9][0-9]_*.ipynb")
	if err != nil || len(notebooks) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	slices.Sort(notebooks)
	for _, nb := range notebooks {
		if _, ok := expected[strings.TrimSuffix(nb, ".ipynb")]; !ok {
			t.Errorf("%s: not listed in expected; add what it must show", nb)
		}
	}

	// Warm the build cache with the notebooks' tag, so the first GoMLX cell does not compile it all.
	start := time.Now()
	warm := exec.Command("go", "build", "-tags", "onnx", "./...")
	warm.Dir = ".."
	if out, err := warm.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags onnx ./...: %v\n%s", err, out)
	}
	t.Logf("build cache warmed in %.1fs", time.Since(start).Seconds())

	tmp := t.TempDir()
	db := filepath.Join(tmp, "store", "aelab.db")
	outDir := filepath.Join(tmp, "out")
	env := append(os.Environ(), "AELAB_QUICK=1", "AELAB_DB="+db, "GOMLX_NO_AUTO_INSTALL=1", "PATH="+path)

	for _, nb := range notebooks {
		name := strings.TrimSuffix(nb, ".ipynb")
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute",
				"--ExecutePreprocessor.timeout=1800", "--ExecutePreprocessor.kernel_name=gonb",
				"--output-dir", outDir, nb)
			cmd.Env = env
			start := time.Now()
			out, err := cmd.CombinedOutput()
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("nbconvert --execute %s: %v after %.0fs\n%s", nb, err, elapsed.Seconds(), tail(out, 6000))
			}
			executed, err := os.ReadFile(filepath.Join(outDir, nb))
			if err != nil {
				t.Fatal(err)
			}
			text, errs, cells, err := outputs(executed)
			if err != nil {
				t.Fatalf("%s: %v", nb, err)
			}
			t.Logf("%s: %.1fs; slowest cells: %s", nb, elapsed.Seconds(), cells)
			for _, e := range errs {
				t.Errorf("%s: error output: %s", nb, e)
			}
			// The setup cell's `go list -m` proves the kernel uses this working tree.
			if !strings.Contains(text, "github.com/aelab/aelab v0.0.0 => ") {
				t.Errorf("%s: the setup cell does not show aelab replaced by the working tree", nb)
			}
			for _, want := range expected[name].shows {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the executed notebook does not show %q", nb, want)
				}
			}
		})
	}

	store, err := tracker.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, nb := range notebooks {
		name := strings.TrimSuffix(nb, ".ipynb")
		if !expected[name].runs {
			continue
		}
		runs, err := store.SearchRuns(tracker.Search{Filter: fmt.Sprintf(`tags.notebook = %q and attributes.status = "FINISHED"`, name)})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 0 {
			t.Errorf("the store has no finished run tagged notebook=%s", name)
		}
		for _, r := range runs {
			if r.Source != "notebook" || r.Tags["section"] == "" {
				t.Errorf("run %s of %s: source %q, section %q; want source notebook and a section", r.ShortID(), name, r.Source, r.Tags["section"])
			}
		}
	}
}

// notebookFile is the part of an .ipynb file the test reads.
type notebookFile struct {
	Cells []struct {
		CellType string `json:"cell_type"`
		Metadata struct {
			Execution map[string]time.Time `json:"execution"`
		} `json:"metadata"`
		Outputs []struct {
			OutputType string                     `json:"output_type"`
			Name       string                     `json:"name"` // of a stream: stdout or stderr
			Text       json.RawMessage            `json:"text"`
			Data       map[string]json.RawMessage `json:"data"`
			Ename      string                     `json:"ename"`
			Evalue     string                     `json:"evalue"`
		} `json:"outputs"`
	} `json:"cells"`
}

// outputs returns the text of every output of an executed notebook (stream text, HTML, plain
// text), its error and stderr outputs, and its three slowest code cells with their times.
func outputs(ipynb []byte) (text string, errs []string, slowest string, err error) {
	var nb notebookFile
	if err := json.Unmarshal(ipynb, &nb); err != nil {
		return "", nil, "", fmt.Errorf("reading the executed notebook: %w", err)
	}
	var b strings.Builder
	type timing struct {
		cell int
		d    time.Duration
	}
	var times []timing
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if s, e := c.Metadata.Execution["iopub.execute_input"], c.Metadata.Execution["shell.execute_reply"]; !s.IsZero() && !e.IsZero() {
			times = append(times, timing{i, e.Sub(s)})
		}
		for _, o := range c.Outputs {
			switch {
			case o.OutputType == "error":
				errs = append(errs, fmt.Sprintf("cell %d: %s: %s", i, o.Ename, o.Evalue))
			case o.Name == "stderr": // Jupyter shows it in red: a clean notebook has none
				errs = append(errs, fmt.Sprintf("cell %d: stderr: %s", i, tail([]byte(jsonText(o.Text)), 600)))
			case o.Name == "stdout":
				if line := longLine(jsonText(o.Text)); line != "" {
					errs = append(errs, fmt.Sprintf("cell %d: a stdout line of %d characters, which Jupyter breaks mid-word: %q",
						i, utf8.RuneCountInString(line), line))
				}
			}
			b.WriteString(jsonText(o.Text))
			for _, mime := range []string{"text/html", "text/plain", "text/markdown"} {
				b.WriteString(jsonText(o.Data[mime]))
			}
		}
	}
	slices.SortFunc(times, func(a, b timing) int { return int(b.d - a.d) })
	var parts []string
	for _, tm := range times[:min(3, len(times))] {
		parts = append(parts, fmt.Sprintf("cell %d %.1fs", tm.cell, tm.d.Seconds()))
	}
	return b.String(), errs, strings.Join(parts, ", "), nil
}

// maxStdoutLine is the longest line a cell may print: Jupyter wraps a longer one wherever the
// output area ends, in the middle of a word.
const maxStdoutLine = 110

// longLine returns the first line of text (lines end at \n or \r) longer than maxStdoutLine.
func longLine(text string) string {
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if utf8.RuneCountInString(line) > maxStdoutLine {
			return line
		}
	}
	return ""
}

// jsonText reads a notebook text field: a string or a list of strings.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var lines []string
	if json.Unmarshal(raw, &lines) == nil {
		return strings.Join(lines, "")
	}
	return ""
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
