package figure

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func TestLabels(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want string
	}{
		{[]float64{0, 100000, 200000, 300000, 400000, 500000}, "0 100k 200k 300k 400k 500k"},
		{[]float64{0, 250, 500}, "0 250 500"}, // below 10,000: plain, never "500.00"
		{[]float64{0.05, 0.1, 0.15, 0.2}, "0.05 0.1 0.15 0.2"},
		{[]float64{0, 2.5e6, 5e6}, "0 2.5M 5M"},
		{[]float64{1e9, 2e9}, "1G 2G"},
		{[]float64{-0.002, 0, 0.002}, "-0.002 0 0.002"},
		{[]float64{0.0005}, "0.0005"},
		{[]float64{0.1, 0.2, 0.30000000000000004}, "0.1 0.2 0.3"}, // float noise
		{[]float64{20000, 22500, 25000}, "20k 22.5k 25k"},
	} {
		if got := strings.Join(Labels(c.in), " "); got != c.want {
			t.Errorf("Labels(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if Labels(nil) != nil {
		t.Error("Labels(nil) is not nil")
	}
}

func TestTicks(t *testing.T) {
	// The report's parameter chart used to print "500.00" (thousand): its ticks now read 500k.
	var labels []string
	for _, tk := range (Ticks{}).Ticks(0, 520000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); !strings.Contains(got, "500k") || strings.Contains(got, ".") {
		t.Errorf("ticks of 0..520000: %q", got)
	}
	var epochs []string
	for _, tk := range (EpochTicks{}).Ticks(0.5, 3.2) {
		epochs = append(epochs, tk.Label)
	}
	if strings.Join(epochs, ",") != "1,2,3" {
		t.Errorf("epoch ticks %v, want 1,2,3", epochs)
	}
	if n := len((EpochTicks{}).Ticks(1, 50)); n > 11 {
		t.Errorf("%d epoch ticks for 1..50, want at most 11", n)
	}
	for _, tk := range Unlabelled(Ticks{}).Ticks(0, 1) {
		if tk.Label != "" {
			t.Errorf("Unlabelled tick %+v", tk)
		}
	}
}

func TestNewIsSansSerif(t *testing.T) {
	p := New("t", "x", "y")
	for name, f := range map[string]font.Variant{
		"title": p.Title.TextStyle.Font.Variant, "x label": p.X.Label.TextStyle.Font.Variant,
		"y ticks": p.Y.Tick.Label.Font.Variant, "legend": p.Legend.TextStyle.Font.Variant,
	} {
		if f != "Sans" {
			t.Errorf("%s font variant %q, want Sans", name, f)
		}
	}
}

// fill is a plotter that paints its whole data area one colour.
type fill struct{ c color.Color }

func (f fill) Plot(c draw.Canvas, _ *plot.Plot) {
	c.SetColor(f.c)
	c.Fill(c.Rectangle.Path())
}

// TestLegendBesideData paints the data area red and checks that the legend's ink lies to its
// right, with none on the red area: the legend covers no data.
func TestLegendBesideData(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	p := New("legend test", "x", "y")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(fill{red})
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		t.Fatal(err)
	}
	line.Color = Color(1)
	p.Add(line)
	p.Legend.Add("a rather long legend entry", line)
	p.Legend.Add("another", line)
	out, err := Render(6*vg.Inch, 3*vg.Inch, "png", p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	redBox := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r == 0xffff && g == 0 && bl == 0 {
				redBox = redBox.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if redBox.Empty() || redBox.Dx() < b.Dx()/2 {
		t.Fatalf("data area %v of %v: want at least half the width", redBox, b)
	}
	legendInk := 0
	for y := redBox.Min.Y; y < redBox.Max.Y; y++ {
		for x := redBox.Max.X + 2; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				legendInk++
			}
		}
	}
	if legendInk < 50 {
		t.Errorf("%d dark pixels right of the data area: the legend is not there", legendInk)
	}
	// Inside the data area only red and the diagonal line (Color(1), vermillion).
	for y := redBox.Min.Y + 1; y < redBox.Max.Y-1; y++ {
		for x := redBox.Min.X + 1; x < redBox.Max.X-1; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0x8000 && g < 0x8000 && bl < 0x8000 {
				t.Fatalf("dark pixel (legend text?) at %d,%d inside the data area %v", x, y, redBox)
			}
		}
	}
	if p.Legend.Rectangle(draw.Canvas{}).Size().X == 0 {
		t.Error("Render did not give the plot its legend back")
	}
}

func TestRenderPanels(t *testing.T) {
	a, b := New("two panels", "", "a"), New("", "time", "b")
	for _, p := range []*plot.Plot{a, b} {
		l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 2}})
		p.Add(l)
	}
	svg, err := Render(10*vg.Centimeter, 8*vg.Centimeter, "svg", a, b)
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("svg of two panels: %v", err)
	}
	if _, err := Render(vg.Inch, vg.Inch, "png"); err == nil {
		t.Error("no panels: no error")
	}
	if _, err := Render(vg.Inch, vg.Inch, "bmp?", a); err == nil {
		t.Error("unknown format: no error")
	}
	a.Y.Scale = plot.LogScale{} // gonum/plot panics on a log scale from 1 down to 0
	a.Y.Min = 0
	if _, err := Render(vg.Inch, vg.Inch, "png", a); err == nil || !strings.Contains(err.Error(), "cannot draw") {
		t.Errorf("a log scale over 0: %v", err)
	}
}

func TestImageGrid(t *testing.T) {
	img := make([]float32, 2*3*4) // two 3×4 images
	img[0], img[12] = 1, 2        // white pixel; an out-of-range value is clipped
	g, err := ImageGrid([][]float32{img, img[:12]}, 3, 4, GridStyle{Scale: 2, Gap: 2, Frame: 96})
	if err != nil {
		t.Fatal(err)
	}
	// 2 columns of (4·2+2) plus a gap; 2 rows of (3·2+2) plus a gap.
	if b := g.Bounds(); b.Dx() != 2*10+2 || b.Dy() != 2*8+2 {
		t.Errorf("size %v, want 22×18", b)
	}
	if g.GrayAt(2, 2).Y != 255 || g.GrayAt(12, 2).Y != 255 || g.GrayAt(0, 0).Y != 96 || g.GrayAt(4, 2).Y != 0 {
		t.Error("pixels: want white first pixels (one clipped from 2), frame 96, black elsewhere")
	}
	for _, bad := range []struct {
		rows  [][]float32
		style GridStyle
	}{
		{[][]float32{make([]float32, 5)}, GridStyle{Scale: 1}},
		{nil, GridStyle{Scale: 1}},
		{[][]float32{img}, GridStyle{Scale: 0}},
		{[][]float32{img}, GridStyle{Scale: 1, Gap: -1}},
	} {
		if _, err := ImageGrid(bad.rows, 3, 4, bad.style); err == nil {
			t.Errorf("ImageGrid(%d rows, %+v): no error", len(bad.rows), bad.style)
		}
	}
}
