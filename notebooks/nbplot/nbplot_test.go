package nbplot

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestGridPNG(t *testing.T) {
	img := make([]float32, 2*3*4) // two 3×4 images
	img[0], img[12] = 1, 2        // white pixel; an out-of-range value is clipped
	out, err := GridPNG([]Row{{Title: "a", Images: img}, {Title: "b", Images: img[:12]}}, 3, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	// 2 columns of (4·2+2) plus a gap; 2 rows of (3·2+2) plus a gap.
	if b := m.Bounds(); b.Dx() != 2*10+2 || b.Dy() != 2*8+2 {
		t.Errorf("size %v, want 22×18", b)
	}
	if r, _, _, _ := m.At(2, 2).RGBA(); r != 0xffff {
		t.Errorf("first pixel of the first image is %x, want white", r)
	}
	if r, _, _, _ := m.At(2+10, 2).RGBA(); r != 0xffff {
		t.Errorf("first pixel of the second image (clipped 2 → 1) is %x, want white", r)
	}
	if _, err := GridPNG([]Row{{Images: make([]float32, 5)}}, 3, 4, 1); err == nil {
		t.Error("a row that is not whole images: no error")
	}
	if _, err := GridPNG(nil, 3, 4, 1); err == nil {
		t.Error("no images: no error")
	}
}

func TestGridHTMLAndTable(t *testing.T) {
	h, err := GridHTML("cap <1>", []Row{{Title: "x<y", Images: make([]float32, 49)}}, 7, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"x&lt;y", "cap &lt;1&gt;", "data:image/png;base64,"} {
		if !strings.Contains(h, want) {
			t.Errorf("GridHTML lacks %q", want)
		}
	}
	tab := Table("t", []string{"model", "params"}, [][]string{{"a&b", "476,720"}})
	for _, want := range []string{"<caption>t</caption>", "<th>params</th>", "<td>a&amp;b</td>", `<td style="text-align:right">476,720</td>`} {
		if !strings.Contains(tab, want) {
			t.Errorf("Table lacks %q: %s", want, tab)
		}
	}
}

func TestCharts(t *testing.T) {
	c := Chart{Title: "loss", XLabel: "epoch", YLabel: "BCE", LogY: true}
	out, err := c.LinesPNG(Series{Name: "train", X: []float64{1, 2, 3}, Y: []float64{0.3, 0.2, 0.1}},
		Series{Name: "val", X: []float64{1, 2, 3}, Y: []float64{0.25, 0.15, 0.12}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LinesPNG(Series{X: []float64{1}, Y: nil}); err == nil {
		t.Error("mismatched series: no error")
	}
	out, err = Chart{Title: "scores"}.HistogramsPNG(10, []string{"a", "b"}, []float64{1, 2, 2, 3}, []float64{3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	if _, err := (Chart{}).HistogramsPNG(5, []string{"a"}); err == nil {
		t.Error("names without samples: no error")
	}
	if _, err := (Chart{}).HistogramsPNG(5, []string{"a"}, []float64{}); err == nil {
		t.Error("no values: no error")
	}
	if _, err := (Chart{}).HistogramsPNG(5, []string{"a"}, []float64{2, 2}); err != nil {
		t.Errorf("constant sample: %v", err)
	}
}

func TestAllIntegers(t *testing.T) {
	if !allIntegers([]Series{{X: []float64{1, 2}}}) || allIntegers([]Series{{X: []float64{1, 1.5}}}) {
		t.Error("allIntegers is wrong")
	}
}

func TestScatter(t *testing.T) {
	var groups []Series
	for d := range 10 {
		groups = append(groups, Series{Name: string(rune('0' + d)), X: []float64{float64(d), float64(d) + 0.5, float64(d) + 0.2}, Y: []float64{1, 2, float64(d)}})
	}
	groups = append(groups, Series{Name: "empty"})
	out, err := Chart{Title: "latent space", XLabel: "z1", YLabel: "z2", Width: 6, Height: 5}.ScatterPNG(groups...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() <= b.Dy() {
		t.Errorf("size %v: want wider than high (6×5 inches)", b)
	}
	if _, err := (Chart{}).ScatterPNG(Series{X: []float64{1}}); err == nil {
		t.Error("mismatched series: no error")
	}
	if _, err := (Chart{}).ScatterPNG(Series{Name: "none"}); err == nil {
		t.Error("no points: no error")
	}
	if median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 3, 2}) != 2.5 {
		t.Error("median is wrong")
	}
}
