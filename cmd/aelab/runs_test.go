package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/metrics"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// runsFixture is a store with three finished runs and one failed run, written through the
// runner's own functions (experiments.StartRun, LogEpoch, LogResults) with made-up results, so
// the names and kinds of what it logs are those of real runs.
type runsFixture struct {
	db  string
	ids map[string]string // name → id
}

func newRunsFixture(t *testing.T) runsFixture {
	t.Helper()
	s, db := newTestStore(t)
	defer s.Close()
	f := runsFixture{db: db, ids: map[string]string{}}
	mk := func(exp, name, model string, epochs int, bce, mse float64, status tracker.Status) {
		cfg, err := aelib.DefaultConfig(model)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Epochs = epochs
		r, err := experiments.StartRun(s, experiments.Spec{Config: cfg, Experiment: exp, Name: name, Source: "test",
			Tags: map[string]string{"purpose": "test"}}, map[string]string{"env.host": "lab", "env.go_version": "go1.26"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 3
		hist := &aelib.History{StepsPerEpoch: 1, Seconds: 3}
		for e := 1; e <= n; e++ {
			k := float64(n - e + 1)
			m := aelib.EpochMetrics{Epoch: e, Step: int64(e), TrainLoss: bce * k * 1.1, ValLoss: bce * k, ValMSE: mse * k, ValMAE: 2 * mse * k, Seconds: 1, TrainSeconds: 0.8}
			if err := experiments.LogEpoch(r, m); err != nil {
				t.Fatal(err)
			}
			hist.Epochs = append(hist.Epochs, m)
		}
		arch, err := cfg.Architecture()
		if err != nil {
			t.Fatal(err)
		}
		res := &experiments.Result{Model: &aelib.Autoencoder{Config: cfg, Arch: arch}, History: hist,
			Evaluation: experiments.Evaluation{Test: metrics.Summary{BCE: bce, MSE: mse}}, CheckpointDir: "/tmp/ckpt/" + name}
		if err := experiments.LogResults(r, res); err != nil {
			t.Fatal(err)
		}
		reason := ""
		if status == tracker.StatusFailed {
			reason = "loss is NaN"
		}
		if err := r.Finish(status, reason); err != nil {
			t.Fatal(err)
		}
		f.ids[name] = r.ID()
		time.Sleep(2 * time.Millisecond)
	}
	mk("vanilla", "vanilla-32", aelib.ModelVanilla, 10, 0.092, 0.011, tracker.StatusFinished)
	mk("deep", "deep-128-64-32", aelib.ModelDeep, 20, 0.081, 0.0085, tracker.StatusFinished)
	mk("denoising", "denoise-0.3", aelib.ModelDenoise, 20, 0.1, 0.013, tracker.StatusFinished)
	mk("deep", "deep-broken", aelib.ModelDeep, 5, math.NaN(), 0.5, tracker.StatusFailed)
	return f
}

func TestRunsList(t *testing.T) {
	f := newRunsFixture(t)
	code, out, errOut := runAelab(t, "runs", "list", "--db", f.db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header + 4 rows:\n%s", out)
	}
	for _, col := range []string{"ID", "NAME", "MODEL", "STATUS", "EPOCHS", "VAL_BCE", "VAL_MSE", "START", "DURATION"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header lacks %s: %s", col, lines[0])
		}
	}
	// newest first; short ids; aligned columns
	if !strings.HasPrefix(lines[1], f.ids["deep-broken"][:8]+" ") || !strings.Contains(lines[1], "FAILED") {
		t.Errorf("first row: %s", lines[1])
	}
	if !strings.Contains(out, "0.0085") || !strings.Contains(out, "vanilla-32") {
		t.Errorf("list:\n%s", out)
	}
	if i := strings.Index(lines[0], "STATUS"); strings.Index(lines[2], "FINISHED") != i {
		t.Errorf("STATUS column not aligned:\n%s", out)
	}

	// Filter and order, flags after nothing positional, limit.
	code, out, _ = runAelab(t, "runs", "list", "--where", `params.model = "deep" and metrics.val_mse < 0.1`, "--db", f.db)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "deep-128-64-32") {
		t.Errorf("filtered list (%d):\n%s", code, out)
	}
	code, out, _ = runAelab(t, "runs", "list", "--order-by", "metrics.val_mse asc", "--limit", "1", "--db", f.db)
	if code != 0 || !strings.Contains(out, "deep-128-64-32") || strings.Count(out, "\n") != 2 {
		t.Errorf("ordered list (%d):\n%s", code, out)
	}
	code, out, _ = runAelab(t, "runs", "list", "--where", `params.model = "nothing"`, "--db", f.db)
	if code != 0 || !strings.Contains(out, "no runs match") {
		t.Errorf("empty list (%d): %s", code, out)
	}
}

func TestRunsListBadQuery(t *testing.T) {
	f := newRunsFixture(t)
	code, _, errOut := runAelab(t, "runs", "list", "--where", "metrics.val_mse < ", "--db", f.db)
	if code != 2 || !strings.Contains(errOut, "query: at column 19: expected a value after '<', got end of input") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "^") {
		t.Errorf("no caret under the column:\n%s", errOut)
	}
	code, _, errOut = runAelab(t, "runs", "list", "--order-by", "metrics.x sideways", "--db", f.db)
	if code != 2 || !strings.Contains(errOut, "--order-by: query: at column 11") {
		t.Errorf("bad order: exit %d, %s", code, errOut)
	}
	code, _, errOut = runAelab(t, "runs", "list", "--limit", "many", "--db", f.db)
	if code != 2 || !strings.Contains(errOut, "-limit") {
		t.Errorf("bad flag: exit %d, %s", code, errOut)
	}
	code, _, errOut = runAelab(t, "runs", "frobnicate")
	if code != 2 || !strings.Contains(errOut, "unknown subcommand") {
		t.Errorf("unknown subcommand: exit %d, %s", code, errOut)
	}
	// Injection text is data.
	code, out, _ := runAelab(t, "runs", "list", "--where", `params.model = 'x"; drop table runs; --'`, "--db", f.db)
	if code != 0 || !strings.Contains(out, "no runs match") {
		t.Errorf("injection as data: exit %d, %s", code, out)
	}
	code, _, errOut = runAelab(t, "runs", "list", "--where", `params.model = x"; drop table runs; --`, "--db", f.db)
	if code != 2 || !strings.Contains(errOut, "column 16") {
		t.Errorf("malformed injection: exit %d, %s", code, errOut)
	}
	if code, out, _ := runAelab(t, "runs", "list", "--db", f.db); code != 0 || strings.Count(out, "\n") != 5 {
		t.Errorf("store damaged? %d\n%s", code, out)
	}
}

func TestRunsMissingStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nope.db")
	for _, args := range [][]string{{"runs", "list"}, {"runs", "show", "abc"}, {"experiments", "list"}} {
		code, _, errOut := runAelab(t, append(args, "--db", db)...)
		if code != 2 || !strings.Contains(errOut, "no experiment store at "+db) {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a read command created the store")
	}
}

func TestRunsListJSONAndCSV(t *testing.T) {
	f := newRunsFixture(t)
	code, out, errOut := runAelab(t, "runs", "list", "--json", "--db", f.db, "--where", "attributes.name = 'vanilla-32'")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var recs []struct {
		ID      string            `json:"id"`
		Name    string            `json:"name"`
		Params  map[string]string `json:"params"`
		Config  map[string]any    `json:"config"`
		History map[string][]struct {
			Step  int64    `json:"step"`
			Epoch int      `json:"epoch"`
			Value *float64 `json:"value"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(recs) != 1 || recs[0].ID != f.ids["vanilla-32"] || recs[0].Params["model"] != "vanilla" || recs[0].Config["epochs"] != 10.0 {
		t.Fatalf("records %+v", recs)
	}
	h := recs[0].History[experiments.ValBCE.Name]
	if len(h) != 3 || h[2].Epoch != 3 || *h[2].Value != 0.092 {
		t.Errorf("history %+v", h)
	}
	// NaN (deep-broken's val_bce) must not break JSON.
	if code, out, _ := runAelab(t, "runs", "list", "--json", "--db", f.db); code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("JSON with NaN: exit %d", code)
	}

	code, out, _ = runAelab(t, "runs", "list", "--csv", "--db", f.db)
	if code != 0 {
		t.Fatalf("csv exit %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("csv %v:\n%s", err, out)
	}
	if rows[0][0] != "id" || !strings.Contains(strings.Join(rows[0], ","), "params.model") || !strings.Contains(strings.Join(rows[0], ","), "metrics.val_mse") {
		t.Errorf("csv header %v", rows[0])
	}
	if code, _, _ := runAelab(t, "runs", "list", "--csv", "--json", "--db", f.db); code != 2 {
		t.Errorf("--csv --json: exit %d", code)
	}
}

func TestRunsShow(t *testing.T) {
	f := newRunsFixture(t)
	id := f.ids["deep-128-64-32"]
	code, out, errOut := runAelab(t, "runs", "show", id[:6], "--db", f.db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Run " + id, "deep-128-64-32", "FINISHED", "Config:", `"widths": [`, "Params:", "model", "Tags:", "purpose",
		"Environment:", "env.go_version", "env.host", "Metrics (latest):", "val_mse", "History:", "train_loss", "Artifacts:", "/tmp/ckpt/deep-128-64-32"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// env.* only in the Environment block
	params := out[strings.Index(out, "Params:"):strings.Index(out, "Tags:")]
	if strings.Contains(params, "env.") {
		t.Errorf("env params listed with params:\n%s", params)
	}
	// flags after the ID, JSON
	code, out, _ = runAelab(t, "runs", "show", id[:8], "--json", "--db", f.db)
	var rec map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rec) != nil || rec["id"] != id || rec["history"] == nil {
		t.Errorf("show --json (%d):\n%s", code, out)
	}
	failed := f.ids["deep-broken"]
	if _, out, _ := runAelab(t, "runs", "show", failed, "--db", f.db); !strings.Contains(out, "loss is NaN") {
		t.Errorf("failed run shows no reason:\n%s", out)
	}
	if code, _, errOut := runAelab(t, "runs", "show", "--db", f.db); code != 2 {
		t.Errorf("show without id: exit %d %s", code, errOut)
	}
	if code, _, errOut := runAelab(t, "runs", "show", "ffffffff", "--db", f.db); code != 1 || !strings.Contains(errOut, "no run") {
		t.Errorf("show unknown: exit %d %s", code, errOut)
	}
}

func TestRunsCompare(t *testing.T) {
	f := newRunsFixture(t)
	a, b := f.ids["vanilla-32"], f.ids["deep-128-64-32"]
	code, out, errOut := runAelab(t, "runs", "compare", a[:8], b[:8], "--db", f.db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	find := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Errorf("no line starting %q in:\n%s", prefix, out)
		return ""
	}
	if l := find("* model"); !strings.Contains(l, "vanilla") || !strings.Contains(l, "deep") {
		t.Errorf("model row: %q", l)
	}
	find("* epochs")
	find("  learning_rate") // same value: not marked
	if l := find("  val_mse"); !strings.Contains(l, "0.011") || !strings.Contains(l, "0.0085") {
		t.Errorf("val_mse row: %q", l)
	}
	if !strings.Contains(out, "History of train_loss:") || !strings.Contains(out, "History of val_bce:") {
		t.Errorf("no loss history:\n%s", out)
	}
	for _, l := range lines {
		if len([]rune(l)) > 100 {
			t.Errorf("line wider than 100 columns: %q", l)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing blanks: %q", l)
		}
	}
	if code, _, _ := runAelab(t, "runs", "compare", a, "--db", f.db); code != 2 {
		t.Errorf("compare one run: exit %d", code)
	}
}

func TestRunsExport(t *testing.T) {
	f := newRunsFixture(t)
	out := filepath.Join(t.TempDir(), "runs.csv")
	code, _, errOut := runAelab(t, "runs", "export", "--csv", "--where", "params.model = 'deep'", "--out", out, "--db", f.db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(out)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Errorf("exported %v:\n%s", err, data)
	}
	code, stdout, _ := runAelab(t, "runs", "export", "--json", "--db", f.db)
	if code != 0 || !json.Valid([]byte(stdout)) {
		t.Errorf("export --json exit %d", code)
	}
	if code, _, _ := runAelab(t, "runs", "export", "--db", f.db); code != 2 {
		t.Errorf("export without format: exit %d", code)
	}
}

func TestRunsTagAndDelete(t *testing.T) {
	f := newRunsFixture(t)
	id := f.ids["vanilla-32"]
	code, _, errOut := runAelab(t, "runs", "tag", id[:8], "keep=yes", "note=best so far", "--db", f.db)
	if code != 0 {
		t.Fatalf("tag exit %d: %s", code, errOut)
	}
	if code, out, _ := runAelab(t, "runs", "list", "--where", "tags.keep = 'yes' and tags.note like 'best%'", "--db", f.db); code != 0 || !strings.Contains(out, "vanilla-32") {
		t.Errorf("tag not visible (%d):\n%s", code, out)
	}
	if code, _, _ := runAelab(t, "runs", "tag", id, "novalue", "--db", f.db); code != 2 {
		t.Errorf("bad tag: exit %d", code)
	}
	if code, _, errOut := runAelab(t, "runs", "delete", id[:8], "--db", f.db); code != 0 {
		t.Fatalf("delete exit %d: %s", code, errOut)
	}
	if _, out, _ := runAelab(t, "runs", "list", "--db", f.db); strings.Contains(out, "vanilla-32") {
		t.Errorf("deleted run still listed:\n%s", out)
	}
	if _, out, _ := runAelab(t, "runs", "list", "--all", "--db", f.db); !strings.Contains(out, "vanilla-32") || !strings.Contains(out, "(deleted)") {
		t.Errorf("--all does not show the deleted run:\n%s", out)
	}
}

func TestExperimentsList(t *testing.T) {
	f := newRunsFixture(t)
	code, out, errOut := runAelab(t, "experiments", "list", "--db", f.db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "deep ") || !strings.Contains(lines[1], " 2 ") {
		t.Errorf("experiments:\n%s", out)
	}
	if code, out, _ := runAelab(t, "experiments", "--json", "--db", f.db); code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("experiments --json exit %d", code)
	}
}

func TestRunsHelp(t *testing.T) {
	code, out, _ := runAelab(t, "runs", "help")
	if code != 0 || !strings.Contains(out, "compare") || !strings.Contains(out, "export") {
		t.Errorf("help (%d):\n%s", code, out)
	}
	if code, _, errOut := runAelab(t, "runs", "list", "-h"); code != 0 || !strings.Contains(errOut, "--where") && !strings.Contains(errOut, "-where") {
		t.Errorf("list -h (%d):\n%s", code, errOut)
	}
	if code, _, _ := runAelab(t, "runs"); code != 2 {
		t.Errorf("runs without subcommand: exit %d", code)
	}
}

// compare shows the history of both losses of runs trained for real (issue #10, item 14: it
// looked for val_loss while runs log val_bce, and its test's fixture logged val_loss too).
func TestRunsCompareShowsTheLossHistoryOfRealRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "aelab.db")
	tiny := []string{"--epochs", "2", "--subset", "256", "--test-subset", "128"}
	runs := trainRuns(t, db, slices.Concat(tiny, []string{"--seed", "1"}), slices.Concat(tiny, []string{"--seed", "2"}))
	code, out, stderr := runAelab(t, "runs", "compare", runs[0].ShortID(), runs[1].ShortID(), "--db", db)
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	for _, m := range experiments.Losses() {
		i := strings.Index(out, "History of "+m.Name+":")
		if i < 0 {
			t.Errorf("compare shows no history of %s:\n%s", m.Name, out)
			continue
		}
		table := out[i:]
		if !strings.Contains(table, runs[0].ShortID()) || !strings.Contains(table, runs[1].ShortID()) || !regexp.MustCompile(`\n\s+2\s+\d\.\d{4}\s+\d\.\d{4}`).MatchString(table) {
			t.Errorf("history of %s lacks the two runs' epochs:\n%s", m.Name, table)
		}
	}
}
