package nbplot

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
	"strings"

	"github.com/aelab/aelab/figure"
)

// Row is one row of an image grid: a title and n images of h×w pixels stored flat, row-major,
// with values in [0, 1] (0 black, 1 white).
type Row struct {
	Title  string
	Images []float32
}

// GridPNG draws rows of h×w images as one PNG, each pixel scale×scale, with a gap of one
// scaled pixel between images. Rows may hold different numbers of images; values outside [0, 1]
// are clipped. The drawing is figure.ImageGrid's, as in the reports.
func GridPNG(rows []Row, h, w, scale int) ([]byte, error) {
	images := make([][]float32, len(rows))
	for i, r := range rows {
		images[i] = r.Images
	}
	img, err := figure.ImageGrid(images, h, w, figure.GridStyle{Scale: scale, Gap: scale, Frame: 96})
	if err != nil {
		return nil, fmt.Errorf("nbplot: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// GridHTML is GridPNG inside an HTML table whose first column holds the row titles, with an
// optional caption under it. The PNG is embedded as a data URL, so the HTML stands alone.
func GridHTML(caption string, rows []Row, h, w, scale int) (string, error) {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse">`)
	for _, r := range rows {
		p, err := GridPNG([]Row{r}, h, w, scale)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, `<tr><th style="text-align:right;padding-right:8px">%s</th><td><img src="data:image/png;base64,%s"/></td></tr>`,
			html.EscapeString(r.Title), base64.StdEncoding.EncodeToString(p))
	}
	if caption != "" {
		fmt.Fprintf(&b, `<caption style="caption-side:bottom">%s</caption>`, html.EscapeString(caption))
	}
	b.WriteString("</table>")
	return b.String(), nil
}

// Table renders an HTML table: a header row and the body rows, all cells escaped. Cells that
// look like numbers are right-aligned.
func Table(caption string, header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<table>`)
	if caption != "" {
		fmt.Fprintf(&b, "<caption>%s</caption>", html.EscapeString(caption))
	}
	b.WriteString("<thead><tr>")
	for _, h := range header {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			align := ""
			if numeric(c) {
				align = ` style="text-align:right"`
			}
			fmt.Fprintf(&b, "<td%s>%s</td>", align, html.EscapeString(c))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

func numeric(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789.,-+e%×:x ", c) {
			return false
		}
	}
	return strings.ContainsAny(s, "0123456789")
}
