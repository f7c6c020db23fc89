package reports

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/aelab/aelab/aelib/data"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/figure"
	"github.com/aelab/aelab/tracker"
)

// Figure is one picture of the report, as PNG and (for charts, and as a wrapper for image
// grids) SVG.
type Figure struct {
	Name    string // file stem: "val_bce" → val_bce.png, val_bce.svg
	Title   string
	Caption string
	Kind    string // "chart" or "grid"
	RunID   string // the run a grid shows, "" for charts of all runs
	PNG     []byte
	SVG     []byte
}

// DataURI is the PNG as a data: URI for an <img src>.
func (f *Figure) DataURI() string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG)
}

const (
	chartW = 16 * vg.Centimeter
	chartH = 9 * vg.Centimeter
)

// buildFigures draws every figure; problems (a checkpoint that will not load) become notes.
func buildFigures(runs []*Run, opts Options, notes []string) ([]*Figure, []string) {
	var figs []*Figure
	add := func(f *Figure, err error) {
		if err != nil {
			notes = append(notes, err.Error())
			return
		}
		if f != nil {
			figs = append(figs, f)
		}
	}
	add(valLossChart(runs))
	add(sharedCurves(runs, sharedMetricsOf(runs)))
	add(barChart(runs, experiments.ParamCount.Name, "Parameters", "trainable parameters", fmt.Sprintf("Trainable parameters per run (from metric %s).", experiments.ParamCount.Name),
		[]experiments.Metric{experiments.ParamCount}, []string{"parameters"}, 1))
	add(barChart(runs, "model_size", "Model size", "MB (1024² bytes)", fmt.Sprintf("Model size as float32 and float16 (metrics %s, %s).", experiments.ModelBytesF32.Name, experiments.ModelBytesF16.Name),
		[]experiments.Metric{experiments.ModelBytesF32, experiments.ModelBytesF16}, []string{"float32", "float16"}, 1.0/mib))
	add(barChart(runs, experiments.SecondsPerEpoch.Name, "Seconds per epoch", "seconds", "Mean seconds per epoch after the first (compilation excluded); backend and device are in the runs table.",
		[]experiments.Metric{experiments.SecondsPerEpoch}, []string{"seconds/epoch"}, 1))
	add(digitChart(runs))
	add(systemChart(runs))
	if !opts.NoGrids {
		sets := map[string]*data.Dataset{}
		images := func(name string, n int) (*data.Split, error) {
			if sets[name] == nil {
				ds, err := data.Load(name)
				if err != nil {
					return nil, err
				}
				sets[name] = ds
			}
			return sets[name].Test.Subset(n), nil
		}
		for _, r := range runs {
			add(ReconstructionGrid(r.Record, r.Checkpoint, opts.GridImages, images))
		}
	}
	return figs, notes
}

// render draws the panels of a chart as PNG and SVG, chartH high per panel.
func render(f *Figure, panels ...*plot.Plot) (*Figure, error) {
	h := chartH
	if len(panels) > 1 {
		h = vg.Length(len(panels)) * chartH * 0.6
	}
	for _, format := range []string{"png", "svg"} {
		b, err := figure.Render(chartW, h, format, panels...)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", f.Name, err)
		}
		if format == "png" {
			f.PNG = b
		} else {
			f.SVG = b
		}
	}
	f.Kind = "chart"
	return f, nil
}

// valLossChart is the validation BCE of every epoch of every run, one line each.
func valLossChart(runs []*Run) (*Figure, error) {
	p := figure.New("Validation loss per epoch", "epoch", "validation BCE")
	p.X.Tick.Marker = figure.EpochTicks{}
	any := false
	for i, r := range runs {
		if len(r.ValBCE) == 0 {
			continue
		}
		var xys plotter.XYs
		for _, pt := range r.ValBCE {
			if !math.IsNaN(pt.Value) && !math.IsInf(pt.Value, 0) { // a diverged epoch: left out
				xys = append(xys, plotter.XY{X: float64(pt.Epoch), Y: pt.Value})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", experiments.ValBCE.Name, err)
		}
		l.Color, s.Color = figure.Color(i), figure.Color(i)
		l.Width = vg.Points(1.5)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(r.Label(), l, s)
		any = true
	}
	if !any {
		return nil, nil
	}
	return render(&Figure{Name: experiments.ValBCE.Name, Title: "Validation loss per epoch",
		Caption: fmt.Sprintf("Validation binary cross-entropy after each epoch (metric %s), every run on one chart.", experiments.ValBCE.Name)}, p)
}

// barChart draws one bar per run for each metric key (grouped when several).
func barChart(runs []*Run, name, title, yLabel, caption string, keys []experiments.Metric, legends []string, scale float64) (*Figure, error) {
	p := figure.New(title, "", yLabel)
	labels := make([]string, len(runs))
	for i, r := range runs {
		labels[i] = r.Model() + "\n" + r.Record.ShortID() // two lines: six runs' labels fit side by side
	}
	groupW := 0.7 * float64(chartW-4*vg.Centimeter) / float64(max(len(runs), 1))
	w := vg.Length(math.Min(groupW/float64(len(keys)), 60))
	any := false
	for k, key := range keys {
		vals := make(plotter.Values, len(runs))
		for i, r := range runs {
			if v, ok := r.Metric(key.Name); ok && !math.IsNaN(v) && !math.IsInf(v, 0) { // a bar cannot show NaN or ∞
				vals[i] = v * scale
				any = true
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", name, err)
		}
		b.Color = figure.Color(k)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(k)-float64(len(keys)-1)/2) * w
		p.Add(b)
		if len(keys) > 1 {
			p.Legend.Add(legends[k], b)
		}
	}
	if !any {
		return nil, nil
	}
	p.NominalX(labels...)
	p.X.Tick.Label.Font = figure.Font(8.5)
	p.Y.Min, p.Y.Max = 0, p.Y.Max*1.05 // the tallest bar does not touch the top
	return render(&Figure{Name: name, Title: title, Caption: caption}, p)
}

// digitChart is the reconstruction MSE per digit class, one bar per run in each group.
func digitChart(runs []*Run) (*Figure, error) {
	p := figure.New("Reconstruction MSE per digit", "digit", "test MSE")
	var with []*Run
	for _, r := range runs {
		if _, ok := r.Metric(experiments.DigitMSE.For(0).Name); ok {
			with = append(with, r)
		}
	}
	if len(with) == 0 {
		return nil, nil
	}
	w := vg.Length(0.8 * float64(chartW-5*vg.Centimeter) / 10 / float64(len(with)))
	for i, r := range with {
		vals := make(plotter.Values, 10)
		for d := range vals {
			if v, ok := r.Metric(experiments.DigitMSE.For(d).Name); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals[d] = v
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, fmt.Errorf("figure digit_mse: %w", err)
		}
		b.Color = figure.Color(i)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(len(with)-1)/2) * w
		p.Add(b)
		p.Legend.Add(r.Label(), b)
	}
	p.NominalX("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	p.Y.Min, p.Y.Max = 0, p.Y.Max*1.05
	return render(&Figure{Name: "digit_mse", Title: "Reconstruction MSE per digit",
		Caption: fmt.Sprintf("Mean test MSE of each digit class (metrics %s … %s); for denoising runs, of the denoised images.", experiments.DigitMSE.For(0).Name, experiments.DigitMSE.For(9).Name)}, p)
}

// TestImages returns the first n test images of a data set (mnist, fashion).
type TestImages func(dataset string, n int) (*data.Split, error)

// ReconstructionGrid loads the run's checkpoint from dir through aelib's inference API (never
// retraining) and reconstructs the first n test images of the data set it trained on:
// originals above reconstructions, or clean / noisy / denoised rows for a denoising run, whose
// noise is the run's own (the first images get the noise they had in its evaluation). It
// returns nil, nil when dir is empty (a run without a checkpoint).
func ReconstructionGrid(rec *tracker.RunRecord, dir string, n int, images TestImages) (*Figure, error) {
	if dir == "" {
		return nil, nil
	}
	ae, err := experiments.LoadCheckpoint(dir)
	if err != nil {
		return nil, fmt.Errorf("run %s: no reconstructions: %w", rec.ShortID(), err)
	}
	defer ae.Backend.Finalize()
	cfg := ae.Config
	test, err := images(cfg.Dataset, n)
	if err != nil {
		return nil, fmt.Errorf("run %s: no reconstructions: %w", rec.ShortID(), err)
	}
	clean := test.Images
	inputs := clean
	rows := [][]float32{clean}
	names := "top: test images; bottom: reconstructions"
	if cfg.Noise > 0 {
		// The run's own noisy test inputs (aelib.PrepareSplits): the noise is sequential, so the
		// first n images get the same noise as in the run's evaluation.
		inputs = data.AddNoise(clean, cfg.Noise, cfg.Seed+1)
		rows = append(rows, inputs)
		names = fmt.Sprintf("rows: clean test images, noisy inputs (noise %g), denoised outputs", cfg.Noise)
	}
	out, err := ae.Reconstruct(inputs, test.N)
	if err != nil {
		return nil, fmt.Errorf("run %s: reconstruct: %w", rec.ShortID(), err)
	}
	rows = append(rows, out)
	img, err := figure.ImageGrid(rows, data.Height, data.Width, reportGrid)
	if err != nil {
		return nil, fmt.Errorf("run %s: reconstructions: %w", rec.ShortID(), err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	label := rec.Params["model"] + " " + rec.ShortID()
	f := &Figure{Name: "reconstructions_" + rec.Params["model"] + "_" + rec.ShortID(), Kind: "grid", RunID: rec.ID, PNG: b.Bytes()}
	f.Title = "Reconstructions: " + label
	if cfg.Noise > 0 {
		f.Title = "Clean / noisy / denoised: " + label
	}
	f.Caption = fmt.Sprintf("The first %d test images through the checkpoint of run %s (%s); %s.", test.N, rec.ShortID(), dir, names)
	f.SVG = svgWrap(f.PNG, img.Bounds().Dx(), img.Bounds().Dy(), f.Title)
	return f, nil
}

// reportGrid is the style of the report's reconstruction grids.
var reportGrid = figure.GridStyle{Scale: 3, Gap: 2, Frame: 70}

// svgWrap is an SVG that shows a PNG (for image grids, whose pixels are the content).
func svgWrap(pngData []byte, w, h int, title string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d" viewBox="0 0 %d %d">`, w, h, w, h)
	fmt.Fprintf(&b, "<title>%s</title>", xmlEscape(title))
	fmt.Fprintf(&b, `<image width="%d" height="%d" style="image-rendering:pixelated" xlink:href="data:image/png;base64,%s"/></svg>`,
		w, h, base64.StdEncoding.EncodeToString(pngData))
	b.WriteString("\n")
	return b.Bytes()
}
