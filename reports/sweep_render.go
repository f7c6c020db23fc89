package reports

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// bestMetrics are the measurements shown for the best trial, when its run has them.
var bestMetrics = []experiments.Metric{experiments.ValBCE, experiments.ValMSE, experiments.ValMAE, experiments.TestBCE,
	experiments.TestMSE, experiments.TestMAE, experiments.TestPSNR, experiments.TestSSIM, experiments.TestPearson,
	experiments.NoisyMSE, experiments.DenoisedMSE, experiments.ImprovementPct, experiments.ParamCount,
	experiments.SecondsPerEpoch, experiments.TrainSeconds}

// summary is one sentence on the sweep: trials by status and what it optimised.
func (r *SweepReport) summary() string {
	stop := "no early stopping"
	if r.Sweep.Stopping != "" {
		stop = "early stopping: " + r.Sweep.Stopping
	}
	s := fmt.Sprintf("Sweep %s of model %s: %d trials (%s); metric %s (%s); %s.", r.Sweep.ID, r.Sweep.Model, len(r.Trials),
		r.Counts(), r.Sweep.Metric, goalText(r.Sweep.LowerIsBetter), stop)
	if !r.Sweep.Cancelled.IsZero() {
		s += " Cancelled " + r.Sweep.Cancelled.Local().Format("2006-01-02 15:04:05") + "."
	}
	return s
}

// trialsTable lists every trial: parameters, status, metric, epochs, early stop, attempts.
func (r *SweepReport) trialsTable() table {
	header := []string{"Trial"}
	header = append(header, r.Sweep.Parameters...)
	seeds := r.hasSeeds()
	if seeds {
		header = append(header, "seed")
	}
	n := len(header)
	header = append(header, "Status", r.Sweep.Metric, "Epochs", "Stopped early", "Attempts", "Run", "Worker")
	t := table{class: "trials", header: header, right: map[int]bool{0: true, n + 1: true, n + 2: true, n + 4: true}}
	for _, tr := range r.Trials {
		row := []string{strconv.Itoa(tr.Index)}
		for _, p := range r.Sweep.Parameters {
			row = append(row, tr.Params[p])
		}
		if seeds {
			row = append(row, strconv.FormatUint(tr.Seed, 10))
		}
		value, epochs, stopped, runID, worker := "—", "—", "", "—", "—"
		if !math.IsNaN(tr.Value) {
			value = fmt.Sprintf("%.5g", tr.Value)
		}
		if tr.Run != nil {
			epochs = strconv.Itoa(len(tr.Curve))
			if e := tr.Run.Params["epochs"]; e != "" && e != epochs {
				epochs += " of " + e
			}
			runID, worker = tr.Run.ShortID(), orDash(tr.Run.Tags[tracker.TagSweepWorker])
		}
		if tr.StoppedEpoch > 0 {
			stopped = fmt.Sprintf("after epoch %d: %s", tr.StoppedEpoch, tr.StoppedWhy)
		}
		row = append(row, string(tr.State), value, epochs, orDash(stopped), strconv.Itoa(tr.Attempts), runID, worker)
		t.rows = append(t.rows, row)
		t.rowCls = append(t.rowCls, map[bool]string{true: "best", false: ""}[tr == r.Best])
	}
	return t
}

func (r *SweepReport) hasSeeds() bool {
	for _, t := range r.Trials {
		if t.Seed != 0 {
			return true
		}
	}
	return false
}

// bestTables are the best trial's config (its run's params) and metrics.
func (r *SweepReport) bestTables() (config, metrics table) {
	config = table{class: "kv", header: []string{"Setting", "Value"}}
	metrics = table{class: "kv", header: []string{"Metric", "Value"}, right: numeric(1, 1)}
	run := r.Best.Run
	for _, k := range slices.Sorted(maps.Keys(run.Params)) {
		config.rows = append(config.rows, []string{k, run.Params[k]})
	}
	for _, m := range bestMetrics {
		if v, ok := run.Metrics[m.Name]; ok {
			metrics.rows = append(metrics.rows, []string{m.Name, fmt.Sprintf("%.5g", v)})
		}
	}
	return config, metrics
}

func (r *SweepReport) bestIntro() string {
	b := r.Best
	return fmt.Sprintf("Trial %d (%s), run %s: %s %.5g.", b.Index, b.Describe(r.Sweep.Parameters), b.Run.ID, r.Sweep.Metric, b.Value)
}

const sweepCSS = `.aelab-report table.trials tr.best td{background:#e3f4e6;font-weight:600}
.aelab-report table.trials td:nth-last-child(4){font-size:.9em;color:#444;max-width:340px}
.aelab-report pre{background:#f7f9fc;border:1px solid #d5dbe5;padding:8px;overflow-x:auto}
`

// HTML is the report as an HTML fragment with its own scoped style (for a notebook cell or a
// page); figures are inlined.
func (r *SweepReport) HTML() string {
	var b strings.Builder
	b.WriteString(`<div class="aelab-report"><style>` + css + sweepCSS + "</style>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(r.Title))
	fmt.Fprintf(&b, `<p class="meta">Generated %s on %s from the store <code>%s</code>.</p>`+"\n",
		esc(r.Generated.Format("2006-01-02 15:04:05 MST")), esc(orDash(r.Host)), esc(r.StorePath))
	fmt.Fprintf(&b, "<p>%s</p>\n", esc(r.summary()))
	b.WriteString("<h2>Best trial</h2>\n")
	if r.Best == nil {
		b.WriteString("<p>No trial has finished with the metric yet.</p>\n")
	} else {
		fmt.Fprintf(&b, "<p>%s</p>\n", esc(r.bestIntro()))
		config, metrics := r.bestTables()
		b.WriteString(`<div class="figures">`)
		b.WriteString("<div><h3>Config</h3>")
		config.html(&b)
		b.WriteString("</div><div><h3>Metrics</h3>")
		metrics.html(&b)
		b.WriteString("</div></div>\n")
	}
	b.WriteString("<h2>Trials</h2>\n")
	r.trialsTable().html(&b)
	b.WriteString("<h2>Figures</h2>\n")
	figuresHTML(&b, r.Figures)
	fmt.Fprintf(&b, "<details><summary>Spec</summary><pre>%s</pre></details>\n", esc(r.Sweep.Spec))
	notesHTML(&b, r.Notes)
	b.WriteString("</div>\n")
	return b.String()
}

// Document is the report as a complete, self-contained HTML page.
func (r *SweepReport) Document() string { return document(r.Title, r.HTML()) }

// Markdown is the report as Markdown; figures are linked as NAME.png beside it (WriteDir
// writes them).
func (r *SweepReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdCell(r.Title))
	fmt.Fprintf(&b, "Generated %s on %s from the store `%s`.\n\n%s\n\n", r.Generated.Format("2006-01-02 15:04:05 MST"),
		orDash(r.Host), r.StorePath, mdCell(r.summary()))
	b.WriteString("## Best trial\n\n")
	if r.Best == nil {
		b.WriteString("No trial has finished with the metric yet.\n\n")
	} else {
		b.WriteString(mdCell(r.bestIntro()) + "\n\n")
		config, metrics := r.bestTables()
		config.markdown(&b)
		metrics.markdown(&b)
	}
	b.WriteString("## Trials\n\n")
	r.trialsTable().markdown(&b)
	b.WriteString("## Figures\n\n")
	figuresMarkdown(&b, r.Figures)
	fmt.Fprintf(&b, "## Spec\n\n```yaml\n%s\n```\n\n", strings.TrimRight(r.Sweep.Spec, "\n"))
	notesMarkdown(&b, r.Notes)
	return b.String()
}

// WriteDir writes the report to dir: index.html and/or report.md, and every figure as PNG and
// SVG. No formats means both. It returns the paths it wrote.
func (r *SweepReport) WriteDir(dir string, formats ...string) ([]string, error) {
	return writeDir(dir, r.Figures, r.Document, r.Markdown, formats)
}
