package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/internal/trackerbench"
	"github.com/aelab/aelab/tracker"
)

// runsJSONStore fills the store at location through the production paths: trainings logged
// as experiments.Run logs them (trackerbench.LogRun: config, params, environment tags, every
// epoch, the evaluation), and runs that hold what a JSON writer can get wrong: text to
// escape, NaN and infinite values, a step logged twice, an artifact, a run still running,
// one without metrics and a deleted one. hostile is more text to escape, where the backend
// keeps it (SQLite keeps NUL and invalid UTF-8; PostgreSQL refuses them).
func runsJSONStore(t *testing.T, location, hostile string) {
	t.Helper()
	s, err := tracker.OpenWith(location, tracker.Options{ArtifactRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	models, err := trackerbench.Models()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 7 {
		if err := trackerbench.LogRun(s, models[i%len(models)], i, 3, rng); err != nil {
			t.Fatal(err)
		}
	}
	odd, err := s.StartRun(tracker.RunSpec{Experiment: "odd <&>", Name: "r<&>\u2028é\"\\\t" + hostile,
		Config: json.RawMessage(` {"note": "<b>&amp;</b>", "widths": [1, 2], "empty": {}, "none": [], "x": 1e-7} `),
		Params: map[string]string{"model": "deep", "quote": `say "hi"`, "bad\x01": "\u2029"},
		Tags:   map[string]string{"env.command": "aelab train --model deep && echo done", "ünï": "cödé" + hostile, "x>y": "1", "ctl" + hostile: "\x1f\x7f"}})
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 3; step++ {
		if err := odd.LogMetrics(map[string]float64{"val_bce": 1 / float64(step), `a"b`: 1e-7 * float64(step),
			"val/loss": math.NaN(), "big": 1e21, "a&b": math.Copysign(0, -1), "inf": math.Inf(int(step%2)*2 - 1)}, step, int(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := odd.LogMetric("val_bce", 0.25, 3, 3); err != nil { // step 3 again: the last logged is the latest
		t.Fatal(err)
	}
	if err := odd.LogMetric("val_bce", 9, 2, 2); err != nil { // a lower step, logged last
		t.Fatal(err)
	}
	artifact := filepath.Join(s.ArtifactRoot(), "model.ckpt")
	if err := os.WriteFile(artifact, []byte("weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := odd.LogArtifact("checkpoint", artifact, "the <best> & last"); err != nil {
		t.Fatal(err)
	}
	if err := odd.Finish(tracker.StatusFailed, "loss went <NaN> & stopped"); err != nil {
		t.Fatal(err)
	}
	empty, err := s.StartRun(tracker.RunSpec{Name: "no metrics"})
	if err != nil {
		t.Fatal(err)
	}
	empty.Finish(tracker.StatusKilled, "")
	gone, err := s.StartRun(tracker.RunSpec{Name: "deleted"})
	if err != nil {
		t.Fatal(err)
	}
	gone.LogMetric("train_loss", 0.5, 1, 1)
	gone.Finish(tracker.StatusFinished, "")
	if err := s.DeleteRun(gone.ID()); err != nil {
		t.Fatal(err)
	}
	running, err := s.StartRun(tracker.RunSpec{Name: "running"})
	if err != nil {
		t.Fatal(err)
	}
	running.LogMetric("train_loss", 0.7, 1, 1) // left RUNNING: this process is alive
}

// encodingJSONRun is how aelab wrote a run with its history before the JSON was written by
// hand: the record by json.MarshalIndent with its latest metrics taken from the history, then
// "history", each point by json.Marshal.
func encodingJSONRun(t *testing.T, s *tracker.Store, r *tracker.RunRecord, prefix string) []byte {
	t.Helper()
	hist, err := s.MetricHistories(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := json.Marshal(r.LatestMetrics)
	r.Metrics, r.LatestMetrics = map[string]float64{}, map[string]tracker.MetricPoint{}
	for k, points := range hist {
		r.Metrics[k], r.LatestMetrics[k] = points[len(points)-1].Value, points[len(points)-1]
	}
	if fromHistory, _ := json.Marshal(r.LatestMetrics); !bytes.Equal(stored, fromHistory) {
		t.Errorf("run %s: the store's latest metrics are not the histories' last points:\n%s\n%s", r.Name, stored, fromHistory)
	}
	rec, err := json.MarshalIndent(r, prefix, "  ")
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndexByte(rec, '\n')
	b := slices.Clone(rec[:end])
	in := prefix + "  "
	b = append(b, ",\n"+in+`"history": {`...)
	keys := slices.Sorted(maps.Keys(hist))
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(k)
		b = append(b, "\n"+in+"  "...)
		b = append(b, name...)
		b = append(b, ": ["...)
		for j, p := range hist[k] {
			if j > 0 {
				b = append(b, ',')
			}
			point, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, "\n"+in+"    "...)
			b = append(b, point...)
		}
		b = append(b, "\n"+in+"  ]"...)
	}
	if len(keys) > 0 {
		b = append(b, "\n"+in...)
	}
	b = append(b, '}')
	return append(b, rec[end:]...)
}

// encodingJSONRuns is runs list --json as encoding/json writes it (see encodingJSONRun).
func encodingJSONRuns(t *testing.T, location string, q tracker.Search) string {
	t.Helper()
	s, err := tracker.OpenReadOnly(location)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.SearchRuns(q)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range runs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  ")
		b.Write(encodingJSONRun(t, s, r, "  "))
	}
	if len(runs) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.String()
}

// runs list --json, runs export --json and runs show --json, written by hand from histories
// read in batches, are byte for byte what encoding/json made of the same runs, on both
// backends: every field, escapes, NaN and infinities as null, latest metrics, order.
func TestRunsJSONAsEncodingJSON(t *testing.T) {
	for _, backend := range []struct {
		name     string
		location func(t *testing.T) string
		hostile  string // and what encoding/json reads back
		readBack string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "aelab.db") }, "\x00\xff\xfe", "\x00\ufffd\ufffd"},
		{"postgres", func(t *testing.T) string { return pgtest.Shared(t).NewDatabase(t) }, "", ""},
	} {
		t.Run(backend.name, func(t *testing.T) {
			db := backend.location(t)
			runsJSONStore(t, db, backend.hostile)
			for _, c := range []struct {
				args []string
				q    tracker.Search
			}{
				{[]string{"runs", "list", "--json", "--limit", "0", "--all"}, tracker.Search{IncludeDeleted: true}},
				{[]string{"runs", "list", "--json"}, tracker.Search{Limit: 20}},
				{[]string{"runs", "list", "--json", "--where", "params.model = 'deep'", "--order-by", "metrics.val_bce desc"},
					tracker.Search{Filter: "params.model = 'deep'", OrderBy: "metrics.val_bce desc", Limit: 20}},
				{[]string{"runs", "list", "--json", "--where", "params.model = 'nothing'"}, tracker.Search{Filter: "params.model = 'nothing'"}},
				{[]string{"runs", "export", "--json", "--all"}, tracker.Search{IncludeDeleted: true}},
			} {
				want := encodingJSONRuns(t, db, c.q)
				code, got, stderr := runAelab(t, append(c.args, "--db", db)...)
				if code != 0 || got != want {
					t.Errorf("%s: exit %d %s\n%s", strings.Join(c.args, " "), code, stderr, firstDifference(got, want))
				}
			}
			// What a JSON reader sees: each bad byte as U+FFFD, NaN and ±Inf as null.
			_, listed, _ := runAelab(t, "runs", "list", "--json", "--where", "attributes.status = 'FAILED'", "--db", db)
			var odd []struct {
				Name    string
				Tags    map[string]string
				History map[string][]struct{ Value *float64 }
			}
			if err := json.Unmarshal([]byte(listed), &odd); err != nil || len(odd) != 1 || !utf8.ValidString(listed) {
				t.Fatalf("the failed run's JSON: %v\n%s", err, listed)
			}
			readBack := backend.readBack
			if o := odd[0]; o.Name != "r<&>\u2028é\"\\\t"+readBack || o.Tags["ctl"+readBack] != "\x1f\x7f" || len(o.History["inf"]) != 3 {
				t.Errorf("read back: %q, tags %q, %d inf points", o.Name, o.Tags, len(o.History["inf"]))
			}
			for _, k := range []string{"val/loss", "inf"} {
				for _, p := range odd[0].History[k] {
					if p.Value != nil {
						t.Errorf("%s: %v, want null", k, *p.Value)
					}
				}
			}
			s, err := tracker.OpenReadOnly(db)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			runs, err := s.SearchRuns(tracker.Search{IncludeDeleted: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				want := string(encodingJSONRun(t, s, r, "")) + "\n"
				code, got, stderr := runAelab(t, "runs", "show", r.ShortID(), "--json", "--db", db)
				if code != 0 || got != want {
					t.Errorf("runs show %s --json: exit %d %s\n%s", r.Name, code, stderr, firstDifference(got, want))
				}
			}
			out := filepath.Join(t.TempDir(), "runs.json")
			code, _, stderr := runAelab(t, "runs", "export", "--json", "--out", out, "--db", db)
			data, err := os.ReadFile(out)
			if want := encodingJSONRuns(t, db, tracker.Search{}); code != 0 || err != nil || string(data) != want {
				t.Errorf("runs export --json --out: exit %d %s %v\n%s", code, stderr, err, firstDifference(string(data), want))
			}
		})
	}
}

// firstDifference shows where got and want part.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-200)
	return "first difference at byte " + strconv.Itoa(i) + ":\n got …" + got[from:min(len(got), i+100)] + "\nwant …" + want[from:min(len(want), i+100)]
}
