package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// hostileText holds what a terminal acts on: OSC 0 (window title), OSC 52 (clipboard write),
// CSI 2J (clear screen), a C1 CSI, a right-to-left override and an isolate.
const hostileText = "\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\u009b2J\u202etxt.exe\u2066"

// Names, tags, params, experiments and sweep names from a store reach the terminal escaped,
// clipped or not, in runs list/show/compare, experiments, sweep list and sweep status; --json
// keeps the exact text (issue 19, item 7).
func TestTerminalOutputEscapesControlCharacters(t *testing.T) {
	s, db := newTestStore(t)
	config, err := json.Marshal(map[string]string{"model": "vanilla", "note": hostileText}) // valid JSON, escapes decoded on reading
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 2 {
		r, err := s.StartRun(tracker.RunSpec{
			Experiment: "exp" + hostileText,
			Name:       fmt.Sprintf("run%d%s", i, hostileText),
			Config:     config,
			Params:     map[string]string{"model": "vanilla" + hostileText, "k" + hostileText: "v" + hostileText},
			Tags:       map[string]string{"tag" + hostileText: "value" + hostileText},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.LogMetrics(map[string]float64{"val_bce" + hostileText: 0.5, "val_bce": 0.4}, 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := r.LogMetrics(map[string]float64{"val_bce" + hostileText: 0.3, "val_bce": 0.2}, 2, 2); err != nil {
			t.Fatal(err)
		}
		if err := r.Finish(tracker.StatusFailed, "reason"+hostileText); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID())
	}
	s.Close()
	spec := filepath.Join(t.TempDir(), "hostile.yaml")
	if err := os.WriteFile(spec, []byte("name: \"sw\\e]0;pwned\\a\\e[2J\\u202e\"\nmodel: vanilla\nbase: {epochs: 1, subset: 64}\nparameters:\n  lr: [0.001, 0.002]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runAelab(t, "sweep", "create", spec, "--db", db); code != 0 {
		t.Fatalf("sweep create: exit %d\n%s%s", code, out, stderr)
	}
	_, out, _ := runAelab(t, "sweep", "list", "--json", "--db", db)
	var sweeps []struct{ ID string }
	if err := json.Unmarshal([]byte(out), &sweeps); err != nil || len(sweeps) != 1 {
		t.Fatalf("sweep list --json: %v\n%s", err, out)
	}

	for _, args := range [][]string{
		{"runs", "list"},
		{"runs", "list", "--all", "--where", `attributes.status = "FAILED"`},
		{"runs", "show", ids[0]},
		{"runs", "compare", ids[0], ids[1]},
		{"experiments"},
		{"sweep", "list"},
		{"sweep", "status", sweeps[0].ID},
	} {
		code, out, stderr := runAelab(t, append(args, "--db", db)...)
		if code != 0 {
			t.Errorf("aelab %s: exit %d: %s", strings.Join(args, " "), code, stderr)
			continue
		}
		for _, r := range out {
			if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069) {
				t.Errorf("aelab %s writes %U to the terminal:\n%s", strings.Join(args, " "), r, out)
				break
			}
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("aelab %s does not show the escapes:\n%s", strings.Join(args, " "), out)
		}
	}
	if _, out, _ := runAelab(t, "runs", "show", ids[0], "--db", db); !strings.Contains(out, `run0\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\u009b2J\u202etxt.exe\u2066`) ||
		!strings.Contains(out, `tag\x1b]0;pwned`) || !strings.Contains(out, `reason\x1b]0;pwned`) {
		t.Errorf("runs show does not show the name, tags and reason escaped:\n%s", out)
	}
	if _, out, _ := runAelab(t, "sweep", "status", sweeps[0].ID, "--db", db); !strings.Contains(out, `(sw\x1b]0;pwned\x07\x1b[2J\u202e)`) {
		t.Errorf("sweep status does not show the name escaped:\n%s", out)
	}

	_, out, _ = runAelab(t, "runs", "list", "--json", "--db", db)
	var runs []struct {
		Name string            `json:"name"`
		Tags map[string]string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != 2 {
		t.Fatalf("runs list --json: %v\n%s", err, out)
	}
	if runs[0].Name != "run1"+hostileText || runs[0].Tags["tag"+hostileText] != "value"+hostileText {
		t.Errorf("runs list --json changed the text: %q %q", runs[0].Name, runs[0].Tags)
	}
}

// runs reproduce prints the stored run's name escaped too (issue 19, item 7).
func TestReproduceEscapesTheName(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	runs := trainRuns(t, db, []string{"--epochs", "1", "--subset", "64", "--test-subset", "32", "--name", "r" + hostileText})
	code, out, stderr := runAelab(t, "runs", "reproduce", runs[0].ShortID(), "--db", db, "--progress=false")
	if code != 0 {
		t.Fatalf("reproduce: exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(out, "\x1b\x07\u009b\u202e\u2066") || !strings.Contains(out, `(r\x1b]0;pwned\x07`) {
		t.Errorf("reproduce does not show the name escaped:\n%q", out)
	}
}

// An error that quotes what it was given raw (here a --db path) reaches the terminal escaped,
// on one line.
func TestErrorsReachTheTerminalEscaped(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x\x1b]0;pwned\x07\u202e", "aelab.db")
	code, stdout, stderr := runAelab(t, "runs", "list", "--db", db)
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("runs list of a missing store: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.ContainsAny(stderr, "\x1b\x07\u202e") || !strings.Contains(stderr, `x\x1b]0;pwned\x07\u202e`) {
		t.Errorf("the error is not escaped: %q", stderr)
	}
}
