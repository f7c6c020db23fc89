package nbkit

import (
	"encoding/base64"
	"fmt"
	"html"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/notebooks/nbplot"
)

// Live is a view of training that redraws in place in a notebook cell: a chart of curves (and
// optionally a grid of images) in one output block, and a progress line in another. Any
// training loop can feed it: Add points and Draw, Progress as it goes. A training run of aelib
// feeds it through Observe. Both blocks keep their last content in the saved notebook.
//
// Outside a notebook (a test, a program) nothing is shown; the view still draws, so it can be
// measured.
type Live struct {
	Chart nbplot.Chart // title, labels, size of the chart
	// ProgressEvery is the least time between two redraws of the progress line (default 0.5 s);
	// a finished epoch always redraws.
	ProgressEvery time.Duration

	show                func(id, html string) // gonbui.UpdateHTML in a notebook
	chartID, progressID string

	mu       sync.Mutex
	series   []nbplot.Series
	caption  string
	images   []nbplot.Row
	draws    int // of the chart block: the browser test watches data-draws grow
	progress time.Time
}

// NewLive is a Live view with the chart's title and axis labels; it shows nothing until the
// first Draw or Progress.
func NewLive(chart nbplot.Chart) *Live {
	return &Live{Chart: chart, ProgressEvery: 500 * time.Millisecond, show: gonbui.UpdateHTML,
		chartID: "aelab-live-chart-" + gonbui.UniqueId(), progressID: "aelab-live-progress-" + gonbui.UniqueId()}
}

// Add appends the point (x, y) to the named series (a new series takes the next colour). It
// draws nothing: call Draw after the points of one step of the loop.
func (l *Live) Add(series string, x, y float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.IndexFunc(l.series, func(s nbplot.Series) bool { return s.Name == series })
	if i < 0 {
		l.series = append(l.series, nbplot.Series{Name: series})
		i = len(l.series) - 1
	}
	l.series[i].X = append(l.series[i].X, x)
	l.series[i].Y = append(l.series[i].Y, y)
}

// Images sets the grid of images drawn under the chart (rows of 28×28 images) and its caption;
// it is drawn by the next Draw.
func (l *Live) Images(caption string, rows []nbplot.Row) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.caption, l.images = caption, rows
}

// Draw redraws the chart (and image grid) block with every point added so far.
func (l *Live) Draw() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	l.draws++
	fmt.Fprintf(&b, `<div class="aelab-live" data-draws="%d">`, l.draws)
	if len(l.series) == 0 && len(l.images) == 0 {
		b.WriteString(`<p style="color:#777">the chart appears after the first epoch</p>`)
	}
	if len(l.series) > 0 {
		png, err := l.Chart.LinesPNG(l.series...)
		if err != nil {
			return fmt.Errorf("nbkit: live chart: %w", err)
		}
		fmt.Fprintf(&b, `<img alt="%s" src="data:image/png;base64,%s"/>`, html.EscapeString(l.Chart.Title), base64.StdEncoding.EncodeToString(png))
	}
	if len(l.images) > 0 {
		grid, err := nbplot.GridHTML(l.caption, l.images, 28, 28, 2)
		if err != nil {
			return fmt.Errorf("nbkit: live images: %w", err)
		}
		b.WriteString(grid)
	}
	b.WriteString("</div>")
	l.show(l.chartID, b.String())
	return nil
}

// Progress redraws the progress line: a bar at done of total and a short text. Calls closer
// together than ProgressEvery are skipped, unless done == total.
func (l *Live) Progress(done, total int, text string) {
	l.progressLine(done, total, text, done >= total)
}

// progressLine is Progress, which force redraws however recent the last redraw.
func (l *Live) progressLine(done, total int, text string, force bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(l.progress) < l.ProgressEvery {
		return
	}
	l.progress = now
	l.show(l.progressID, fmt.Sprintf(`<div class="aelab-progress" style="font-family:monospace;font-size:90%%">`+
		`<progress value="%d" max="%d" style="width:12em;vertical-align:middle"></progress> %s</div>`,
		done, max(total, 1), html.EscapeString(text)))
}

// Observe is experiments.Options.ObserveModel for a training cell: the view follows the run's
// training loss and validation BCE after every epoch and its progress within epochs, and, when
// images > 0, shows the model's reconstructions of the first test images after every epoch.
// Its two blocks appear when training starts, chart above progress, before the epochs' lines.
func (l *Live) Observe(images int) func(*aelib.Autoencoder, aelib.Splits) []aelib.Observer {
	return func(ae *aelib.Autoencoder, s aelib.Splits) []aelib.Observer {
		o := &trainingView{live: l, ae: ae, epochs: ae.Config.Epochs, start: time.Now()}
		if n := min(images, s.NTest); n > 0 {
			o.n = n
			o.inputs, o.targets = s.TestInputs[:n*784], s.TestTargets[:n*784]
		}
		_ = l.Draw() // nothing to draw yet: cannot fail
		l.progressLine(0, 1, fmt.Sprintf("epoch 1/%d · compiling the training step", o.epochs), true)
		return []aelib.Observer{o}
	}
}

// Trial is an observer for one run of many on one chart (the trials of a sweep, through
// sweeps.LocalOptions.Watch, or any loop of experiments.Run): after every epoch the run's value
// of metric (a per-epoch metric of the schema) becomes a point of the curve named name, and the
// progress line says which trial of epochs epochs is training. Runs may train at once.
func (l *Live) Trial(name string, epochs int, metric experiments.Metric) aelib.Observer {
	start := time.Now()
	return aelib.ObserverFunc(func(m aelib.EpochMetrics) error {
		v, ok := metric.InEpoch(m)
		if !ok {
			return fmt.Errorf("nbkit: %s is not a per-epoch metric", metric.Name)
		}
		l.Add(name, float64(m.Epoch), v)
		if err := l.Draw(); err != nil {
			return err
		}
		l.progressLine(m.Epoch, epochs, fmt.Sprintf("%s · epoch %d/%d · %s %s · %s", name, m.Epoch, epochs, metric.Title, metric.Format(v), since(start)), true)
		return nil
	})
}

// trainingView feeds a Live view from aelib's training.
type trainingView struct {
	live            *Live
	ae              *aelib.Autoencoder
	epochs, n       int
	inputs, targets []float32 // of the n images shown; targets differ for denoising
	start           time.Time
}

// StepEnd redraws the progress line (at most every ProgressEvery); its bar is the share of all
// the run's steps done.
func (o *trainingView) StepEnd(p aelib.StepProgress) error {
	o.live.Progress((p.Epoch-1)*p.Steps+p.Step, p.Epochs*p.Steps, fmt.Sprintf("epoch %d/%d · step %d/%d · loss %.4f · %s",
		p.Epoch, p.Epochs, p.Step, p.Steps, p.Loss, since(o.start)))
	return nil
}

// EpochEnd adds the epoch's losses to the chart, the reconstructions under it, and redraws.
func (o *trainingView) EpochEnd(m aelib.EpochMetrics) error {
	o.live.Add("training loss", float64(m.Epoch), m.TrainLoss)
	o.live.Add("validation BCE", float64(m.Epoch), m.ValLoss)
	if o.n > 0 {
		// One image at a time: aelib pads a batch to 256 images, 30× the work for 8.
		out := make([]float32, 0, len(o.inputs))
		for i := range o.n {
			img, err := o.ae.Reconstruct(o.inputs[i*784:(i+1)*784], 1)
			if err != nil {
				return fmt.Errorf("nbkit: live reconstructions: %w", err)
			}
			out = append(out, img...)
		}
		rows := []nbplot.Row{{Title: "test images", Images: o.targets}}
		if !slices.Equal(o.inputs, o.targets) {
			rows = append(rows, nbplot.Row{Title: "noisy inputs", Images: o.inputs})
		}
		o.live.Images("", append(rows, nbplot.Row{Title: fmt.Sprintf("after epoch %d", m.Epoch), Images: out}))
	}
	if err := o.live.Draw(); err != nil {
		return err
	}
	verb := "done"
	if m.Epoch == o.epochs {
		verb = "finished"
	}
	o.live.progressLine(m.Epoch, o.epochs, fmt.Sprintf("epoch %d/%d %s · loss %.4f · val BCE %.4f · %s",
		m.Epoch, o.epochs, verb, m.TrainLoss, m.ValLoss, since(o.start)), true)
	return nil
}

// since is the time since start, to the tenth of a second.
func since(start time.Time) string {
	return time.Since(start).Round(100 * time.Millisecond).String()
}
