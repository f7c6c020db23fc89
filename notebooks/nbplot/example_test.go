package nbplot_test

import (
	"fmt"

	"github.com/aelab/aelab/notebooks/nbplot"
)

func ExampleTable() {
	fmt.Println(nbplot.Table("", []string{"model", "params"}, [][]string{{"vanilla", "476,720"}}))
	// Output:
	// <table><thead><tr><th>model</th><th>params</th></tr></thead><tbody><tr><td>vanilla</td><td style="text-align:right">476,720</td></tr></tbody></table>
}

func ExampleGridPNG() {
	digit := make([]float32, 28*28) // one black 28×28 image
	png, err := nbplot.GridPNG([]nbplot.Row{{Title: "original", Images: digit}}, 28, 28, 2)
	fmt.Println(err, len(png) > 0)
	// Output: <nil> true
}

func ExampleChart_LinesPNG() {
	c := nbplot.Chart{Title: "Loss", XLabel: "epoch", YLabel: "BCE"}
	png, err := c.LinesPNG(nbplot.Series{Name: "val", X: []float64{1, 2}, Y: []float64{0.2, 0.1}})
	fmt.Println(err, len(png) > 0)
	// Output: <nil> true
}
