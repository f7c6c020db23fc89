package nbplot

import (
	"fmt"
	"math"
	"slices"

	"github.com/aelab/aelab/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named line: points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
}

// seriesPoints is each series as plotter points, in order; an error where a series' X and Y
// differ in length.
func seriesPoints(series []Series) ([]plotter.XYs, error) {
	all := make([]plotter.XYs, len(series))
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("nbplot: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		all[i] = make(plotter.XYs, len(s.X))
		for j := range s.X {
			all[i][j].X, all[i][j].Y = s.X[j], s.Y[j]
		}
	}
	return all, nil
}

// Chart describes a figure: its title and axis labels, and its size in inches (6×3.5 when zero).
type Chart struct {
	Title, XLabel, YLabel string
	Width, Height         float64
	LogY                  bool // logarithmic y axis (all values must be positive)
}

// newPlot is an empty chart in aelab's figure style (package figure).
func (c Chart) newPlot() *plot.Plot {
	p := figure.New(c.Title, c.XLabel, c.YLabel)
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p
}

// png renders the chart, its legend beside the data (figure.Render).
func (c Chart) png(p *plot.Plot) ([]byte, error) {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 6
	}
	if h <= 0 {
		h = 3.5
	}
	b, err := figure.Render(vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch, "png", p)
	if err != nil {
		return nil, fmt.Errorf("nbplot: %w", err)
	}
	return b, nil
}

// LinesPNG draws each series as a line with points, in its own colour, as a PNG. When every x
// is a whole number (epochs), the x axis labels whole numbers only.
func (c Chart) LinesPNG(series ...Series) ([]byte, error) {
	all, err := seriesPoints(series)
	if err != nil {
		return nil, err
	}
	p := c.newPlot()
	if allIntegers(series) {
		p.X.Tick.Marker = figure.EpochTicks{}
	}
	for i, xys := range all {
		if len(xys) == 0 {
			continue
		}
		s := series[i]
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("nbplot: series %q: %w", s.Name, err)
		}
		col := figure.Color(i)
		line.Color, points.Color = col, col
		line.Width = vg.Points(1.5)
		points.Radius = vg.Points(2)
		p.Add(line, points)
		if s.Name != "" {
			p.Legend.Add(s.Name, line, points)
		}
	}
	return c.png(p)
}

// HistogramsPNG overlays one normalised histogram (area 1) per named sample, in its own
// translucent colour, as a PNG. All samples share the same bins bins over their common range,
// so their heights compare directly.
func (c Chart) HistogramsPNG(bins int, names []string, samples ...[]float64) ([]byte, error) {
	if len(names) != len(samples) {
		return nil, fmt.Errorf("nbplot: %d names for %d samples", len(names), len(samples))
	}
	if bins <= 0 {
		return nil, fmt.Errorf("nbplot: %d bins", bins)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range samples {
		for _, v := range s {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return nil, fmt.Errorf("nbplot: no values to draw")
	}
	if hi == lo {
		hi = lo + 1
	}
	width := (hi - lo) / float64(bins)
	p := c.newPlot()
	for i, s := range samples {
		if len(s) == 0 {
			continue
		}
		h := &plotter.Histogram{Bins: make([]plotter.HistogramBin, bins), Width: width, LineStyle: plotter.DefaultLineStyle}
		for b := range h.Bins {
			h.Bins[b].Min, h.Bins[b].Max = lo+float64(b)*width, lo+float64(b+1)*width
		}
		for _, v := range s {
			h.Bins[min(int((v-lo)/width), bins-1)].Weight++
		}
		for b := range h.Bins {
			h.Bins[b].Weight /= float64(len(s)) * width // area 1
		}
		col := figure.Color(i)
		h.LineStyle.Color = col
		h.FillColor = figure.Translucent(col, 100)
		p.Add(h)
		p.Legend.Add(names[i], h)
	}
	return c.png(p)
}

func allIntegers(series []Series) bool {
	for _, s := range series {
		for _, x := range s.X {
			if x != math.Trunc(x) {
				return false
			}
		}
	}
	return true
}

// ScatterPNG draws each series as unconnected points in its own colour (ten distinct colours,
// e.g. one per digit), and writes each series' name large at its median point, so classes
// can be told apart without the legend. Series with no points are skipped.
func (c Chart) ScatterPNG(series ...Series) ([]byte, error) {
	all, err := seriesPoints(series)
	if err != nil {
		return nil, err
	}
	p := c.newPlot()
	var centres plotter.XYLabels
	drawn := 0
	for i, xys := range all {
		if len(xys) == 0 {
			continue
		}
		s := series[i]
		points, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("nbplot: series %q: %w", s.Name, err)
		}
		points.GlyphStyle.Color = figure.Translucent(figure.Color(i), 170)
		points.GlyphStyle.Radius = vg.Points(1.6)
		points.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(points)
		drawn++
		if s.Name != "" {
			p.Legend.Add(s.Name, points)
			centres.XYs = append(centres.XYs, plotter.XY{X: median(s.X), Y: median(s.Y)})
			centres.Labels = append(centres.Labels, s.Name)
		}
	}
	if drawn == 0 {
		return nil, fmt.Errorf("nbplot: no points to draw")
	}
	if len(centres.Labels) > 0 {
		labels, err := plotter.NewLabels(centres)
		if err != nil {
			return nil, err
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Font = figure.Font(14)
			labels.TextStyle[i].XAlign, labels.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		}
		p.Add(labels)
	}
	return c.png(p)
}

// median is the middle value of xs (the mean of the two middle ones for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
