package figure_test

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/aelab/aelab/figure"
)

func ExampleRender() {
	p := figure.New("Loss", "epoch", "BCE")
	p.X.Tick.Marker = figure.EpochTicks{}
	line, _ := plotter.NewLine(plotter.XYs{{X: 1, Y: 0.2}, {X: 2, Y: 0.1}})
	line.Color = figure.Color(0)
	p.Add(line)
	p.Legend.Add("validation", line) // drawn beside the data, not on it
	png, err := figure.Render(6*vg.Inch, 3.5*vg.Inch, "png", p)
	fmt.Println(err, len(png) > 0)
	// Output: <nil> true
}

func ExampleLabels() {
	fmt.Println(figure.Labels([]float64{0, 250000, 500000}))
	// Output: [0 250k 500k]
}
