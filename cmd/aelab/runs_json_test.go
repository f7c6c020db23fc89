package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// The JSON export, written by hand run by run with histories read in batches, holds what
// encoding/json makes of each record plus its history (and is [] for no runs); runs show
// --json writes the same for one run.
func TestRunsJSON(t *testing.T) {
	s, db := newTestStore(t)
	for i := range 3 {
		r, err := s.StartRun(tracker.RunSpec{Name: "r<&>", Params: map[string]string{"i": string(rune('0' + i))}})
		if err != nil {
			t.Fatal(err)
		}
		for e := 1; e <= i+1; e++ {
			r.LogMetrics(map[string]float64{"train_loss": 1 / float64(e), "val_bce": 2e-7 * float64(e), `a"b`: 1}, int64(e), e)
		}
		r.Finish(tracker.StatusFinished, "")
	}
	r, _ := s.StartRun(tracker.RunSpec{Name: "no metrics"})
	r.Finish(tracker.StatusFinished, "")
	runs, err := s.SearchRuns(tracker.Search{})
	if err != nil {
		t.Fatal(err)
	}
	expected := func(runs []*tracker.RunRecord) any {
		var out []any
		for _, r := range runs {
			var m map[string]any
			b, _ := json.Marshal(r)
			json.Unmarshal(b, &m)
			h, _ := s.MetricHistories(r.ID)
			b, _ = json.Marshal(h)
			var hm any
			json.Unmarshal(b, &hm)
			m["history"] = hm
			out = append(out, m)
		}
		return out
	}
	for _, runs := range [][]*tracker.RunRecord{runs, nil} {
		var got bytes.Buffer
		if err := writeRunsJSON(s, runs, &got); err != nil {
			t.Fatal(err)
		}
		var decoded []any
		if err := json.Unmarshal(got.Bytes(), &decoded); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, got.String())
		}
		if want := expected(runs); !reflect.DeepEqual(decoded, want) && !(len(runs) == 0 && len(decoded) == 0) {
			t.Errorf("%d runs:\n got %v\nwant %v", len(runs), decoded, want)
		}
	}
	want := expected(runs[1:2])
	s.Close()
	code, out, _ := runAelab(t, "runs", "show", runs[1].ShortID(), "--json", "--db", db)
	var one any
	if err := json.Unmarshal([]byte(out), &one); code != 0 || err != nil || !reflect.DeepEqual([]any{one}, want) {
		t.Errorf("runs show --json: exit %d, %v\n%s", code, err, out)
	}
}
