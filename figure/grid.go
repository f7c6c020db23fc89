package figure

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// GridStyle is how ImageGrid draws: each image pixel Scale×Scale, with a frame Gap pixels wide
// of gray level Frame around and between the images.
type GridStyle struct {
	Scale int
	Gap   int
	Frame uint8
}

// ImageGrid lays out rows of h×w images, stored flat and row-major with values in [0, 1]
// (0 black, 1 white; values outside are clipped), as one gray picture: row i of the picture holds
// the images of rows[i], left to right. Rows may hold different numbers of images, but each a
// whole number of them.
func ImageGrid(rows [][]float32, h, w int, style GridStyle) (*image.Gray, error) {
	scale, gap := style.Scale, style.Gap
	if h <= 0 || w <= 0 || scale <= 0 || gap < 0 {
		return nil, fmt.Errorf("image size %d×%d, scale %d and gap %d: want positive sizes and scale and a gap ≥ 0", h, w, scale, gap)
	}
	cols := 0
	for i, r := range rows {
		if len(r)%(h*w) != 0 {
			return nil, fmt.Errorf("row %d has %d values, not a whole number of %d×%d images", i, len(r), h, w)
		}
		cols = max(cols, len(r)/(h*w))
	}
	if cols == 0 {
		return nil, fmt.Errorf("no images to draw")
	}
	cw, ch := w*scale+gap, h*scale+gap
	img := image.NewGray(image.Rect(0, 0, cols*cw+gap, len(rows)*ch+gap))
	for i := range img.Pix {
		img.Pix[i] = style.Frame
	}
	for ri, row := range rows {
		for k := 0; k < len(row)/(h*w); k++ {
			px := row[k*h*w : (k+1)*h*w]
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					v := min(max(px[y*w+x], 0), 1)
					c := color.Gray{Y: uint8(math.Round(float64(v) * 255))}
					for dy := 0; dy < scale; dy++ {
						for dx := 0; dx < scale; dx++ {
							img.SetGray(gap+k*cw+x*scale+dx, gap+ri*ch+y*scale+dy, c)
						}
					}
				}
			}
		}
	}
	return img, nil
}
