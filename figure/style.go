package figure

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Palette is every figure's colours, in the order series take them: the Okabe–Ito colours
// (told apart with any colour vision; their yellow, too pale on white, left out) for up to
// seven series, then three more for ten classes (digits).
var Palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
	{140, 86, 75, 255},   // brown
	{127, 127, 127, 255}, // grey
	{188, 189, 34, 255},  // olive
}

// Color is the colour of series i (Palette, repeating after ten).
func Color(i int) color.RGBA { return Palette[i%len(Palette)] }

// Translucent is c with alpha a (0–255), for fills and dense scatter plots.
func Translucent(c color.RGBA, a uint8) color.NRGBA { return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a} }

// Font is the sans-serif font of every text in a figure, at size points.
func Font(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// Text sizes, in points.
const (
	titleSize  = 12
	labelSize  = 10.5
	tickSize   = 9
	legendSize = 9.5
)

// gridColor is the light grey of the background grid.
var gridColor = color.Gray{Y: 225}

// New is an empty chart in aelab's style: title and axis labels in the sans-serif font,
// readable tick labels (Ticks) on both axes, a light grid behind the data.
func New(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	p.Title.TextStyle.Font = Font(titleSize)
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = Font(labelSize)
		a.Tick.Label.Font = Font(tickSize)
		a.Tick.Marker = Ticks{}
		a.LineStyle.Color = color.Gray{Y: 90}
		a.Tick.LineStyle.Color = color.Gray{Y: 90}
	}
	p.Legend.TextStyle.Font = Font(legendSize)
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Legend.Padding = vg.Points(2)
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor, gridColor
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.6), vg.Points(0.6)
	p.Add(g)
	return p
}

// legendGap is the space between the data area and the legend column.
const legendGap = 10

// Render draws the panels one above the other on a w×h canvas in format ("png", "svg", "pdf",
// …), aligned so their data areas line up, and returns the file's bytes. The first panel's
// legend, if it has entries, goes in a column to the right of all panels, level with the top
// of the data: it never covers a point. Other panels' legends are left out. Data gonum/plot
// cannot draw (a value ≤ 0 on a log scale) is an error, not a panic.
func Render(w, h vg.Length, format string, panels ...*plot.Plot) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("figure: cannot draw: %v", r)
		}
	}()
	if len(panels) == 0 {
		return nil, fmt.Errorf("figure: no panels to render")
	}
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return nil, fmt.Errorf("figure: %w", err)
	}
	dc := draw.New(c)
	legend := panels[0].Legend
	legendW := legend.Rectangle(dc).Size().X
	area := dc
	if legendW > 0 {
		area = draw.Crop(dc, 0, -(legendW + vg.Points(legendGap)), 0, 0)
	}
	saved := make([]plot.Legend, len(panels))
	titles := make([]string, len(panels))
	for i, p := range panels { // the panels draw without their legends, their titles fit the width
		saved[i], titles[i] = p.Legend, p.Title.Text
		p.Legend = plot.NewLegend()
		p.Title.Text = wrapText(p.Title.TextStyle, p.Title.Text, area.Max.X-area.Min.X)
	}
	defer func() {
		for i, p := range panels {
			p.Legend, p.Title.Text = saved[i], titles[i]
		}
	}()
	var dataTop vg.Length
	if len(panels) == 1 {
		panels[0].Draw(area)
		dataTop = panels[0].DataCanvas(area).Max.Y
	} else {
		rows := make([][]*plot.Plot, len(panels))
		for i, p := range panels {
			rows[i] = []*plot.Plot{p}
		}
		tiles := plot.Align(rows, draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(6)}, area)
		for i, p := range panels {
			p.Draw(tiles[i][0])
		}
		dataTop = panels[0].DataCanvas(tiles[0][0]).Max.Y
	}
	if legendW > 0 {
		legend.Top, legend.Left = true, true
		legend.XOffs, legend.YOffs = 0, 0
		legend.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-legendW, 0, 0, dataTop-dc.Max.Y))
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("figure: %w", err)
	}
	return b.Bytes(), nil
}

// wrapText breaks text into lines at spaces so that each line fits in width in style st where
// a line can; a centred title wider than its canvas would lose both ends.
func wrapText(st text.Style, txt string, width vg.Length) string {
	if st.Width(txt) <= width {
		return txt
	}
	var lines []string
	line := ""
	for _, w := range strings.Fields(txt) {
		switch {
		case line == "":
			line = w
		case st.Width(line+" "+w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return strings.Join(append(lines, line), "\n")
}
