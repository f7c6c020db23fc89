package reports

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/figure"
	"github.com/aelab/aelab/tracker"
)

// systemPanel is one panel of the system figure: a sampled metric, scaled into the panel's unit.
type systemPanel struct {
	metric experiments.Metric
	label  string
	scale  float64
}

var systemPanels = []systemPanel{
	{experiments.SystemCPU, "process CPU, % of all cores", 1},
	{experiments.SystemRSS, "resident memory, MB", 1.0 / mib},
	{experiments.SystemGPU, "GPU utilisation, %", 1},
	{experiments.SystemGPUMemory, "GPU memory used, MB", 1.0 / mib},
}

// systemChart draws the runs' sampled metrics against the time since each run started, one
// panel per metric (CPU, memory, and GPU utilisation and memory where a run had a GPU), one line
// per run in the run's colour.
func systemChart(runs []*Run) (*Figure, error) {
	longest := 0.0
	for _, r := range runs {
		for _, points := range r.System {
			for _, p := range points {
				longest = max(longest, p.Time.Sub(r.Record.StartTime).Seconds())
			}
		}
	}
	unit, per := "seconds", 1.0
	if longest > 180 {
		unit, per = "minutes", 60
	}
	var panels []*plot.Plot
	for _, sp := range systemPanels {
		p := figure.New("", "", sp.label)
		lines := 0
		for i, r := range runs {
			xys := systemPoints(r.System[sp.metric.Name], r.Record, per, sp.scale)
			if len(xys) == 0 {
				continue
			}
			l, dots, err := plotter.NewLinePoints(xys) // dots: a run with one sample still shows
			if err != nil {
				return nil, fmt.Errorf("figure system: %w", err)
			}
			l.Color, l.Width = figure.Color(i), vg.Points(1.5)
			dots.Color, dots.Radius = figure.Color(i), vg.Points(1.5)
			p.Add(l, dots)
			if len(panels) == 0 {
				p.Legend.Add(r.Label(), l)
			}
			lines++
		}
		if lines == 0 {
			continue
		}
		p.Y.Min = 0
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil, nil
	}
	panels[0].Title.Text = "System metrics while training"
	panels[len(panels)-1].X.Label.Text = unit + " since the run started"
	for i, p := range panels { // one time axis: the same range everywhere, labelled on the last panel
		p.X.Min, p.X.Max = 0, longest/per
		if i < len(panels)-1 {
			p.X.Tick.Marker = figure.Unlabelled(p.X.Tick.Marker)
		}
	}
	return render(&Figure{Name: "system", Title: "System metrics while training",
		Caption: fmt.Sprintf("What each run cost the machine, sampled every few seconds and at the end of every epoch: "+
			"the training process's CPU time as a share of all cores and its resident memory (metrics %s, %s), "+
			"and on machines with an NVIDIA GPU the GPU's utilisation and memory in use (%s, %s).",
			experiments.SystemCPU.Name, experiments.SystemRSS.Name, experiments.SystemGPU.Name, experiments.SystemGPUMemory.Name)}, panels...)
}

// systemPoints are a metric's samples as (time since the run started in units of per seconds,
// value × scale), NaNs left out.
func systemPoints(points []tracker.MetricPoint, rec *tracker.RunRecord, per, scale float64) plotter.XYs {
	var xys plotter.XYs
	for _, p := range points {
		if math.IsNaN(p.Value) {
			continue
		}
		xys = append(xys, plotter.XY{X: p.Time.Sub(rec.StartTime).Seconds() / per, Y: p.Value * scale})
	}
	sort.Slice(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
	return xys
}
