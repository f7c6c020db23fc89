package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/figure"
)

// Runs that are not aelab's models (a classifier logged through package track, a program run
// by `aelab run`, an imported GoMLX training) share no course metric; the report compares every
// run on the metrics the runs have in common, and keeps the course's sections for course runs.

// maxSharedCurves bounds the learning-curve panels of the shared metrics.
const maxSharedCurves = 4

// Course reports whether the run is one of aelab's autoencoders: its stored config names a
// model. Only such runs fill the architecture, training, quality and claims sections.
func (r *Run) Course() bool { return r.Model() != "" && r.Summary != nil }

// courseRuns are the report's runs that are aelab's autoencoders.
func (r *Report) courseRuns() []*Run {
	var out []*Run
	for _, run := range r.Runs {
		if run.Course() {
			out = append(out, run)
		}
	}
	return out
}

// sharedMetrics are the metrics (latest values, system samples left out) that every run of the
// report logged, or with one run all of its metrics; sorted by name. A report of course runs
// alone has none: its own sections compare them.
func (r *Report) sharedMetrics() []string { return sharedMetricsOf(r.Runs) }

// sharedMetricsOf is sharedMetrics of runs, nil when every run is a course run.

func sharedMetricsOf(runs []*Run) []string {
	if !slices.ContainsFunc(runs, func(r *Run) bool { return !r.Course() }) {
		return nil
	}
	count := map[string]int{}
	for _, run := range runs {
		for k := range run.Record.Metrics {
			if m, ok := experiments.LookupMetric(k); ok && m.Kind == experiments.Sampled {
				continue
			}
			count[k]++
		}
	}
	var keys []string
	for k, n := range count {
		if n == len(runs) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// metricLabel is a metric's name for a table head or chart: the schema's label where the
// schema knows it, else the key itself.
func metricLabel(key string) string {
	if m, ok := experiments.LookupMetric(key); ok {
		return m.Label()
	}
	return key
}

// sharedTable is each run's latest value of every shared metric.
func (r *Report) sharedTable(keys []string) table {
	head := []string{"Run", "Name"}
	for _, k := range keys {
		head = append(head, metricLabel(k))
	}
	t := table{class: "shared", header: head, right: numeric(2, len(keys))}
	for _, run := range r.Runs {
		row := []string{run.Record.ShortID(), run.Record.Name}
		for _, k := range keys {
			row = append(row, sharedValue(run, k))
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// sharedValue formats a run's latest value of key, through the schema when it knows the metric.
func sharedValue(run *Run, key string) string {
	if m, ok := experiments.LookupMetric(key); ok {
		return metricText(run, m)
	}
	v, ok := run.Metric(key)
	switch {
	case !ok:
		return "–"
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		return "–"
	}
	return fmt.Sprintf("%.6g", v)
}

// sharedCurves draws the history of the shared metrics that have one (more than one point in
// some run), one panel each, every run a line by step.
func sharedCurves(runs []*Run, keys []string) (*Figure, error) {
	var panels []string
	for _, k := range keys {
		for _, run := range runs {
			if len(run.History[k]) > 1 {
				panels = append(panels, k)
				break
			}
		}
		if len(panels) == maxSharedCurves {
			break
		}
	}
	if len(panels) == 0 {
		return nil, nil
	}
	plots := make([]*plot.Plot, 0, len(panels))
	for _, k := range panels {
		p := figure.New(metricLabel(k), "step", k)
		for i, run := range runs {
			var xys plotter.XYs
			for _, pt := range run.History[k] {
				if !math.IsNaN(pt.Value) && !math.IsInf(pt.Value, 0) {
					xys = append(xys, plotter.XY{X: float64(pt.Step), Y: pt.Value})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("figure shared_metrics: %w", err)
			}
			l.Color, l.Width = figure.Color(i), vg.Points(1.5)
			l.Dashes = plotutil.Dashes(i / 8)
			p.Add(l)
			p.Legend.Add(run.Label(), l)
		}
		plots = append(plots, p)
	}
	f := &Figure{Name: "shared_metrics", Title: "Metrics the runs share",
		Caption: "The history of each metric every run logged (" + strings.Join(panels, ", ") + "), by step."}
	return render(f, plots...)
}
