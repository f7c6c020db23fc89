package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// TestRunsTableColumnsFollowTheRunsShown: a page of runs that are not aelab's models (a
// classifier's, logged through the tracker API as package track logs them) shows their params
// and metrics by default, not the course's empty model and epochs columns; a page with course
// runs keeps the course's columns.
func TestRunsTableColumnsFollowTheRunsShown(t *testing.T) {
	store := newStore(t)
	logRuns(t, store, 3)
	for i, lr := range []string{"0.01", "0.001"} {
		run, err := store.StartRun(tracker.RunSpec{Experiment: "fashion-clf", Name: fmt.Sprintf("clf-%d", i),
			Params: map[string]string{"learning_rate": lr, "hidden": "64"}})
		if err != nil {
			t.Fatal(err)
		}
		for step := int64(1); step <= 3; step++ {
			vals := map[string]float64{"train_loss": 1 / float64(step), "accuracy": 0.7 + 0.05*float64(step), "system.cpu_percent": 50}
			if err := run.LogMetrics(vals, step, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := run.Finish(tracker.StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
	}
	h := newServer(t, store, Options{}).Handler()
	heads := func(target string) string {
		res := do(t, h, "GET", target, nil)
		body := readBody(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", target, res.StatusCode, body)
		}
		_, thead, _ := strings.Cut(body, "<thead>")
		thead, _, _ = strings.Cut(thead, "</thead>")
		return thead // a column's head: <th … title="params.model">
	}
	clf := heads(`/?q=attributes.experiment+%3D+%22fashion-clf%22`)
	for _, want := range []string{"params.learning_rate", "params.hidden", "metrics.accuracy", "metrics.train_loss"} {
		if !strings.Contains(clf, `title="`+want+`"`) {
			t.Errorf("classifier runs: no column %s", want)
		}
	}
	for _, not := range []string{"params.model", "params.epochs", "system.cpu_percent"} {
		if strings.Contains(clf, `title="`+not+`"`) {
			t.Errorf("classifier runs: column %s", not)
		}
	}
	if course := heads(`/?q=params.model+%3D+%22deep%22`); !strings.Contains(course, `title="params.model"`) || strings.Contains(course, `title="metrics.accuracy"`) {
		t.Errorf("course runs lost the course's columns")
	}
}
