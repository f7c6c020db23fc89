package reports

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"github.com/aelab/aelab/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// buildSweepFigures draws the sweep's figures; one that cannot be drawn becomes a note.
func buildSweepFigures(rep *SweepReport) ([]*Figure, []string) {
	var figs []*Figure
	var notes []string
	add := func(f *Figure, err error) {
		if err != nil {
			notes = append(notes, err.Error())
		} else if f != nil {
			figs = append(figs, f)
		}
	}
	shade := newMetricShade(rep)
	if shade == nil {
		return nil, []string{"no trial has logged " + rep.Sweep.Metric + " yet: no figures"}
	}
	axes := sweepAxes(rep)
	add(parallelCoordinates(rep, axes, shade))
	for _, a := range axes[:len(axes)-1] {
		add(metricAgainst(rep, a, shade))
	}
	add(learningCurves(rep, shade))
	return figs, notes
}

// ParallelCoordinates draws the report's parallel-coordinates figure alone (the UI shows it
// without the rest); nil when no trial has the metric yet.
func (r *SweepReport) ParallelCoordinates() (*Figure, error) {
	shade := newMetricShade(r)
	if shade == nil {
		return nil, nil
	}
	return parallelCoordinates(r, sweepAxes(r), shade)
}

// metricShade colours a trial by its metric: dark for the best, light for the worst.
type metricShade struct {
	cmap          palette.ColorMap
	lo, hi        float64
	lowerIsBetter bool
}

func newMetricShade(rep *SweepReport) *metricShade {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range rep.Trials {
		if !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
			lo, hi = min(lo, t.Value), max(hi, t.Value)
		}
	}
	if lo > hi {
		return nil
	}
	cmap := moreland.Kindlmann()
	cmap.SetMin(0)
	cmap.SetMax(1)
	return &metricShade{cmap: cmap, lo: lo, hi: hi, lowerIsBetter: rep.Sweep.LowerIsBetter}
}

// colour is the trial's colour (grey without a value).
func (s *metricShade) colour(v float64) color.Color {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return color.Gray{Y: 190}
	}
	g := 0.5 // goodness: 1 best, 0 worst
	if s.hi > s.lo {
		g = (v - s.lo) / (s.hi - s.lo)
		if s.lowerIsBetter {
			g = 1 - g
		}
	}
	c, err := s.cmap.At(0.85 - 0.7*g) // Kindlmann runs dark to light; its ends are too dark and too pale to read
	if err != nil {
		return color.Black
	}
	return c
}

// sweepAxis is one coordinate of the parallel-coordinates figure: a parameter, the seed, or
// (last) the metric, with a map from a trial to its position in [0, 1].
type sweepAxis struct {
	name   string
	values []string // by trial, "" without a value
	num    []float64
	cats   []string // categorical axes: the values in order; nil for numeric ones
	log    bool
	lo, hi float64
}

// sweepAxes are the varied parameters, the seed when several were used, then the metric.
func sweepAxes(rep *SweepReport) []*sweepAxis {
	var axes []*sweepAxis
	value := func(f func(t *SweepTrial) string) []string {
		out := make([]string, len(rep.Trials))
		for i, t := range rep.Trials {
			out[i] = f(t)
		}
		return out
	}
	for _, p := range rep.Sweep.Parameters {
		axes = append(axes, newAxis(p, value(func(t *SweepTrial) string { return t.Params[p] })))
	}
	seeds := value(func(t *SweepTrial) string {
		if t.Seed == 0 {
			return ""
		}
		return strconv.FormatUint(t.Seed, 10)
	})
	if distinct(seeds) > 1 {
		axes = append(axes, newAxis("seed", seeds))
	}
	axes = append(axes, newAxis(rep.Sweep.Metric, value(func(t *SweepTrial) string {
		if math.IsNaN(t.Value) {
			return ""
		}
		return strconv.FormatFloat(t.Value, 'g', -1, 64)
	})))
	return axes
}

func distinct(v []string) int {
	seen := map[string]bool{}
	for _, s := range v {
		if s != "" {
			seen[s] = true
		}
	}
	return len(seen)
}

// newAxis makes an axis numeric when every value is a number (logarithmic when they are
// positive and span more than 20×), categorical otherwise.
func newAxis(name string, values []string) *sweepAxis {
	a := &sweepAxis{name: name, values: values, num: make([]float64, len(values)), lo: math.Inf(1), hi: math.Inf(-1)}
	numeric := true
	for i, v := range values {
		a.num[i] = math.NaN()
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) {
			numeric = false
			break
		}
		a.num[i], a.lo, a.hi = f, min(a.lo, f), max(a.hi, f)
	}
	if !numeric {
		for _, v := range values {
			if v != "" && !slices.Contains(a.cats, v) {
				a.cats = append(a.cats, v)
			}
		}
		return a
	}
	a.log = a.lo > 0 && a.hi/a.lo > 20
	return a
}

// pos is trial i's position on the axis in [0, 1], NaN without a value.
func (a *sweepAxis) pos(i int) float64 {
	if a.values[i] == "" {
		return math.NaN()
	}
	if a.cats != nil {
		if len(a.cats) == 1 {
			return 0.5
		}
		return float64(slices.Index(a.cats, a.values[i])) / float64(len(a.cats)-1)
	}
	if a.hi == a.lo {
		return 0.5
	}
	if a.log {
		return (math.Log(a.num[i]) - math.Log(a.lo)) / (math.Log(a.hi) - math.Log(a.lo))
	}
	return (a.num[i] - a.lo) / (a.hi - a.lo)
}

// ticks are the axis' labelled positions: every category, or the ends (and middle) of a range.
func (a *sweepAxis) ticks() (pos []float64, labels []string) {
	if a.cats != nil {
		for i, c := range a.cats {
			pos = append(pos, float64(i)/math.Max(float64(len(a.cats)-1), 1))
			labels = append(labels, c)
		}
		if len(a.cats) == 1 {
			pos[0] = 0.5
		}
		return pos, labels
	}
	if a.lo == a.hi {
		return []float64{0.5}, []string{fmt.Sprintf("%.4g", a.lo)}
	}
	mid := (a.lo + a.hi) / 2
	if a.log {
		mid = math.Sqrt(a.lo * a.hi)
	}
	return []float64{0, 0.5, 1}, []string{fmt.Sprintf("%.4g", a.lo), fmt.Sprintf("%.4g", mid), fmt.Sprintf("%.4g", a.hi)}
}

// parallelCoordinates draws one line per trial across the parameters and the metric.
func parallelCoordinates(rep *SweepReport, axes []*sweepAxis, shade *metricShade) (*Figure, error) {
	p := figure.New("Parallel coordinates", "", "")
	p.HideY()
	p.Y.Min, p.Y.Max = -0.05, 1.05
	var xt []plot.Tick
	var lx, ly []float64
	var ltext []string
	for k, a := range axes {
		x := float64(k)
		xt = append(xt, plot.Tick{Value: x, Label: a.name})
		axisLine, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}})
		if err != nil {
			return nil, err
		}
		axisLine.Color, axisLine.Width = color.Gray{Y: 80}, vg.Points(1)
		p.Add(axisLine)
		pos, labels := a.ticks()
		for j := range pos {
			lx, ly, ltext = append(lx, x+0.03), append(ly, pos[j]), append(ltext, labels[j])
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.X.Min, p.X.Max = -0.1, float64(len(axes)-1)+0.45
	drawn := 0
	for _, i := range drawOrder(rep) {
		var xys plotter.XYs
		for k, a := range axes {
			if y := a.pos(i); !math.IsNaN(y) {
				xys = append(xys, plotter.XY{X: float64(k), Y: y})
			}
		}
		if len(xys) < len(axes) { // no metric yet
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = shade.colour(rep.Trials[i].Value), vg.Points(1.6)
		if rep.Trials[i].StoppedEpoch > 0 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l)
		drawn++
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xysOf(lx, ly), Labels: ltext})
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Font = figure.Font(7.5)
		labels.TextStyle[i].YAlign = draw.YCenter
	}
	p.Add(labels)
	return render(&Figure{Name: "sweep_parallel", Title: "Parallel coordinates",
		Caption: fmt.Sprintf("One line per trial (%d with %s) across the varied parameters and the metric; colour by %s (%s: darker is better), dashed lines were stopped early.",
			drawn, rep.Sweep.Metric, rep.Sweep.Metric, goalText(rep.Sweep.LowerIsBetter))}, p)
}

// drawOrder lists trial indices worst first, so the best lines are drawn on top.
func drawOrder(rep *SweepReport) []int {
	idx := make([]int, len(rep.Trials))
	for i := range idx {
		idx[i] = i
	}
	rank := map[*SweepTrial]int{}
	for r, t := range rep.Ranked() {
		rank[t] = r
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rank[rep.Trials[b]] - rank[rep.Trials[a]] })
	return idx
}

func xysOf(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, len(x))
	for i := range x {
		out[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	return out
}

func goalText(lowerIsBetter bool) string {
	if lowerIsBetter {
		return "lower is better"
	}
	return "higher is better"
}

// metricAgainst plots the metric of every trial against one parameter.
func metricAgainst(rep *SweepReport, a *sweepAxis, shade *metricShade) (*Figure, error) {
	p := figure.New(rep.Sweep.Metric+" against "+a.name, a.name, rep.Sweep.Metric)
	p.Legend.Top = false
	var xys plotter.XYs
	var colours []color.Color
	var stopped []bool
	for i, t := range rep.Trials {
		if math.IsNaN(t.Value) || a.values[i] == "" {
			continue
		}
		x := a.num[i]
		if a.cats != nil {
			x = float64(slices.Index(a.cats, a.values[i]))
		}
		xys = append(xys, plotter.XY{X: x, Y: t.Value})
		colours = append(colours, shade.colour(t.Value))
		stopped = append(stopped, t.StoppedEpoch > 0)
	}
	if len(xys) == 0 {
		return nil, nil
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	s.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		g := draw.GlyphStyle{Color: colours[i], Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		if stopped[i] {
			g.Shape, g.Radius = draw.CrossGlyph{}, vg.Points(5)
		}
		return g
	}
	p.Add(s)
	padRange(&p.Y, 0.06, false)
	switch {
	case a.cats != nil:
		var ticks []plot.Tick
		for i, c := range a.cats {
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: c})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(a.cats))-0.5
	case a.log:
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		padRange(&p.X, 0.06, true)
	default:
		padRange(&p.X, 0.06, false)
	}
	return render(&Figure{Name: "sweep_metric_" + fileStem(a.name), Title: rep.Sweep.Metric + " against " + a.name,
		Caption: fmt.Sprintf("Each trial's %s against its %s (%s); crosses were stopped early, so their value is from an earlier epoch.",
			rep.Sweep.Metric, a.name, goalText(rep.Sweep.LowerIsBetter))}, p)
}

// padRange widens an axis by frac of its span on both sides (in log space for a log axis), so
// points at the ends are not cut in half.
func padRange(a *plot.Axis, frac float64, log bool) {
	lo, hi := a.Min, a.Max
	if log {
		lo, hi = math.Log(lo), math.Log(hi)
	}
	d := (hi - lo) * frac
	if d == 0 {
		d = math.Max(math.Abs(lo)*frac, 1e-9)
	}
	lo, hi = lo-d, hi+d
	if log {
		lo, hi = math.Exp(lo), math.Exp(hi)
	}
	a.Min, a.Max = lo, hi
}

// fileStem keeps letters, digits, '-' and '_' of a name for a file name.
func fileStem(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// learningCurves draws every trial's per-epoch metric, marking where trials were stopped.
func learningCurves(rep *SweepReport, shade *metricShade) (*Figure, error) {
	p := figure.New("Learning curves", "epoch", rep.CurveMetric)
	var stopX plotter.XYs
	any := false
	for _, i := range drawOrder(rep) {
		t := rep.Trials[i]
		var xys plotter.XYs
		for _, pt := range t.Curve {
			if !math.IsNaN(pt.Value) && !math.IsInf(pt.Value, 0) {
				xys = append(xys, plotter.XY{X: float64(pt.Epoch), Y: pt.Value})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, s.Color, s.Radius = shade.colour(t.Value), shade.colour(t.Value), vg.Points(2)
		p.Add(l, s)
		any = true
		if t.StoppedEpoch > 0 {
			stopX = append(stopX, xys[len(xys)-1])
		}
	}
	if !any {
		return nil, nil
	}
	if len(stopX) > 0 {
		s, err := plotter.NewScatter(stopX)
		if err != nil {
			return nil, err
		}
		s.Shape, s.Color, s.Radius = draw.CrossGlyph{}, figure.Color(1), vg.Points(6)
		p.Add(s)
		p.Legend.Add("stopped early", s)
	}
	return render(&Figure{Name: "sweep_curves", Title: "Learning curves",
		Caption: fmt.Sprintf("%s after each epoch, one line per trial, coloured by the trial's %s (darker is better); a cross marks the last epoch of a trial stopped early (%d).",
			rep.CurveMetric, rep.Sweep.Metric, len(stopX))}, p)
}
