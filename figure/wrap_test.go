package figure

import (
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// TestLongTitlesWrapToTheWidth: a title wider than its chart (notebook 07's trial chart lost its
// first letters) is drawn in lines that each fit, and the panel keeps its own title after.
func TestLongTitlesWrapToTheWidth(t *testing.T) {
	title := "Sweep denoise-filters-noise-quick: val_mse of every trial by epoch, early-stopped trials dashed"
	p := New(title, "epoch", "val_mse")
	width := 8 * vg.Centimeter
	wrapped := wrapText(p.Title.TextStyle, title, width)
	lines := strings.Split(wrapped, "\n")
	if len(lines) < 2 {
		t.Fatalf("a %v-wide title in %v was not wrapped: %q", p.Title.TextStyle.Width(title), width, wrapped)
	}
	for _, l := range lines {
		if w := p.Title.TextStyle.Width(l); w > width {
			t.Errorf("line %q is %v wide, more than %v", l, w, width)
		}
	}
	if strings.Join(lines, " ") != title {
		t.Errorf("wrapping changed the words: %q", wrapped)
	}
	if short := "Loss"; wrapText(p.Title.TextStyle, short, width) != short {
		t.Errorf("a title that fits was changed")
	}
	if _, err := Render(width, 6*vg.Centimeter, "png", p); err != nil {
		t.Fatal(err)
	}
	if p.Title.Text != title {
		t.Errorf("Render left the panel's title as %q", p.Title.Text)
	}
}
