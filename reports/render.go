package reports

import (
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
)

// Formats WriteDir knows.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
)

// ParseFormats checks a comma-separated format list ("html,md"); empty means both.
func ParseFormats(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return []string{FormatHTML, FormatMarkdown}, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.ToLower(strings.TrimSpace(f)); f {
		case FormatHTML, FormatMarkdown:
			out = append(out, f)
		case "markdown":
			out = append(out, FormatMarkdown)
		default:
			return nil, fmt.Errorf("unknown report format %q (known: html, md)", f)
		}
	}
	return out, nil
}

// WriteDir writes the report to dir (created if needed): index.html (self-contained) and/or
// report.md, and every figure as NAME.png and NAME.svg beside them, each through a new file renamed
// over its name (a link already there is replaced, not followed). No formats means both.
// It returns the paths it wrote.
func (r *Report) WriteDir(dir string, formats ...string) ([]string, error) {
	return writeDir(dir, r.Figures, r.Document, r.Markdown, formats)
}

// writeDir writes a report's figures and its HTML page (document) and/or Markdown to dir.
func writeDir(dir string, figures []*Figure, document, markdown func() string, formats []string) ([]string, error) {
	if len(formats) == 0 {
		formats = []string{FormatHTML, FormatMarkdown}
	}
	for _, f := range formats {
		if f != FormatHTML && f != FormatMarkdown {
			return nil, fmt.Errorf("reports: unknown format %q (known: html, md)", f)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var written []string
	write := func(name string, b []byte) error {
		p := filepath.Join(dir, name)
		if err := writeReplacing(p, b); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		written = append(written, p)
		return nil
	}
	for _, f := range figures {
		if err := write(f.Name+".png", f.PNG); err != nil {
			return written, err
		}
		if f.SVG != nil {
			if err := write(f.Name+".svg", f.SVG); err != nil {
				return written, err
			}
		}
	}
	for _, f := range formats {
		var err error
		if f == FormatHTML {
			err = write("index.html", []byte(document()))
		} else {
			err = write("report.md", []byte(markdown()))
		}
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// writeReplacing writes b to a new file beside path and renames it over path: whatever was at
// path, a symbolic link included, is replaced, never written through, and a reader never sees
// half a file.
func writeReplacing(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	_, err = f.Write(b)
	if err = errors.Join(err, f.Chmod(0o644), f.Close()); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ---- values

func esc(s string) string { return html.EscapeString(s) }

func xmlEscape(s string) string { return html.EscapeString(s) }

// metricText shows a run's value of a metric as the schema formats it, "—" when the run has none.
func metricText(r *Run, m experiments.Metric) string {
	if v, ok := r.Metric(m.Name); ok {
		return m.Format(v)
	}
	return "—"
}

// metricCells are the texts of a run's values of metrics.
func metricCells(r *Run, metrics []experiments.Metric) []string {
	out := make([]string, len(metrics))
	for i, m := range metrics {
		out[i] = metricText(r, m)
	}
	return out
}

// metricHeads are the column heads of metrics: their titles, capitalised.
func metricHeads(metrics []experiments.Metric) []string {
	out := make([]string, len(metrics))
	for i, m := range metrics {
		out[i] = strings.ToUpper(m.Title[:1]) + m.Title[1:]
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// table is a header and rows of cells, rendered to HTML or Markdown alike.
type table struct {
	class  string
	header []string
	rows   [][]string
	right  map[int]bool // right-aligned (numeric) columns
	rowCls []string     // optional class per row (HTML)
}

func (t table) html(b *strings.Builder) {
	fmt.Fprintf(b, `<table class="%s"><thead><tr>`, t.class)
	for _, h := range t.header {
		fmt.Fprintf(b, "<th>%s</th>", esc(h))
	}
	b.WriteString("</tr></thead><tbody>")
	for i, row := range t.rows {
		if i < len(t.rowCls) && t.rowCls[i] != "" {
			fmt.Fprintf(b, `<tr class="%s">`, t.rowCls[i])
		} else {
			b.WriteString("<tr>")
		}
		for j, c := range row {
			if t.right[j] {
				fmt.Fprintf(b, `<td class="num">%s</td>`, esc(c))
			} else {
				fmt.Fprintf(b, "<td>%s</td>", esc(c))
			}
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>\n")
}

// mdCell is text for a Markdown table cell: pipes escaped, one line, and no raw HTML (user
// text such as a run name must not become markup where the Markdown is rendered).
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (t table) markdown(b *strings.Builder) {
	b.WriteString("|")
	for _, h := range t.header {
		b.WriteString(" " + mdCell(h) + " |")
	}
	b.WriteString("\n|")
	for j := range t.header {
		if t.right[j] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + mdCell(c) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// ---- the tables

func (r *Report) runsTable() table {
	t := table{class: "runs", header: []string{"Run", "Name", "Model", "Status", "Epochs", "Data", "Backend", "Device", "Started", "Duration"}, right: numeric(4, 1)}
	for _, run := range r.Runs {
		rec := run.Record
		epochs := fmt.Sprintf("%d", run.EpochsDone())
		if e := run.Epochs(); e != run.EpochsDone() {
			epochs = fmt.Sprintf("%d of %d", run.EpochsDone(), e)
		}
		dataset := orDash(rec.Params["dataset"])
		if s := run.Subset(); s != "" {
			dataset += " (" + s + ")"
		}
		t.rows = append(t.rows, []string{rec.ShortID(), rec.Name, run.Model(), string(rec.Status), epochs, dataset,
			orDash(rec.Tags["env.backend"]), orDash(rec.Tags["env.device"]), rec.StartTime.Local().Format("2006-01-02 15:04:05"),
			rec.Duration().Round(time.Second).String()})
	}
	return t
}

// architectures returns one run per distinct architecture, in report order.
func (r *Report) architectures() []*Run {
	seen := map[string]bool{}
	var out []*Run
	for _, run := range r.Runs {
		if run.Summary == nil {
			continue
		}
		key := run.Summary.Name + "|" + run.Summary.Path + "|" + fmt.Sprint(run.Summary.Total)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, run)
	}
	return out
}

// Columns of the tables, from the metric schema.
var (
	sizeColumns      = []experiments.Metric{experiments.ParamCount, experiments.EncoderParams, experiments.DecoderParams, experiments.ModelBytesF32, experiments.ModelBytesF16}
	trainingColumns  = []experiments.Metric{experiments.StepsPerEpoch, experiments.SecondsPerEpoch, experiments.CompileSeconds, experiments.TrainSeconds, experiments.StepsPerSecond}
	qualityColumns   = []experiments.Metric{experiments.FinalTrainLoss, experiments.ValBCE, experiments.TestBCE, experiments.TestMSE, experiments.TestMAE, experiments.TestPSNR, experiments.TestSSIM, experiments.TestPearson}
	denoisingColumns = []experiments.Metric{experiments.NoisyMSE, experiments.DenoisedMSE, experiments.NoisyPSNR, experiments.DenoisedPSNR, experiments.NoisySSIM, experiments.DenoisedSSIM, experiments.ImprovementPct}
)

// numeric marks the columns from first to first+n-1 as numbers (right-aligned).
func numeric(first, n int) map[int]bool {
	m := map[int]bool{}
	for i := range n {
		m[first+i] = true
	}
	return m
}

func (r *Report) architectureTable() table {
	t := table{class: "arch", header: append(append([]string{"Model"}, metricHeads(sizeColumns)...), "Compression path", "Ratio", "From run"),
		right: numeric(1, len(sizeColumns)+2)}
	t.right[len(sizeColumns)+1] = false // the path
	for _, run := range r.architectures() {
		s := run.Summary
		row := append([]string{run.Model()}, metricCells(run, sizeColumns)...)
		t.rows = append(t.rows, append(row, s.Path, fmt.Sprintf("%.1f:1", s.Ratio), run.Record.ShortID()))
	}
	return t
}

func (r *Report) trainingTable() table {
	t := table{class: "training", header: append(append([]string{"Run", "Model", "Epochs", "Batch", "Optimizer"}, metricHeads(trainingColumns)...), "Backend / device"),
		right: numeric(5, len(trainingColumns))}
	t.right[2], t.right[3] = true, true
	for _, run := range r.courseRuns() {
		p := run.Record.Params
		opt := orDash(p["optimizer"])
		if lr := p["learning_rate"]; lr != "" {
			opt += " lr " + lr
		}
		dev := orDash(run.Record.Tags["env.backend"])
		if d := run.Record.Tags["env.device"]; d != "" {
			dev += " / " + d
		}
		row := append([]string{run.Record.ShortID(), run.Model(), fmt.Sprint(run.EpochsDone()), orDash(p["batch_size"]), opt}, metricCells(run, trainingColumns)...)
		t.rows = append(t.rows, append(row, dev))
	}
	return t
}

func (r *Report) qualityTable() table {
	t := table{class: "quality", header: append([]string{"Run", "Model"}, metricHeads(qualityColumns)...), right: numeric(2, len(qualityColumns))}
	for _, run := range r.courseRuns() {
		t.rows = append(t.rows, append([]string{run.Record.ShortID(), run.Model()}, metricCells(run, qualityColumns)...))
	}
	return t
}

func (r *Report) denoisingTable() (table, bool) {
	t := table{class: "denoising", header: append([]string{"Run"}, metricHeads(denoisingColumns)...), right: numeric(1, len(denoisingColumns))}
	for _, run := range r.Runs {
		if _, ok := run.Metric(experiments.NoisyMSE.Name); !ok {
			continue
		}
		t.rows = append(t.rows, append([]string{run.Label()}, metricCells(run, denoisingColumns)...))
	}
	return t, len(t.rows) > 0
}

func verdictClass(v Verdict) string {
	switch v {
	case Holds:
		return "holds"
	case Differs:
		return "differs"
	case NotComparable:
		return "notcomparable"
	}
	return "notmeasured"
}

// claimsTable is the audit: course, aelab and, where the report has a peer's runs, the peer
// (a third value column, and the verdict says whose a difference is).
func (r *Report) claimsTable() table {
	t := table{class: "claims", header: []string{"§", "Course claim", "Course", "Measured", "Run", "Verdict", "How measured / note"}, right: numeric(2, 2)}
	peer := len(r.Claims) > 0 && r.Claims[0].Peer != nil
	if peer { // the verdict stays the sixth column, which the style sheet colours
		t = table{class: "claims", header: []string{"§", "Course claim", "Course", "aelab", peerTitle(r.Claims[0].Peer.Source), "Verdict", "How measured / note", "Runs"}, right: numeric(2, 3)}
	}
	for _, c := range r.Claims {
		how := c.Measure
		if c.Note != "" {
			how += ". " + c.Note
		}
		row := []string{c.Section, c.Text, c.CourseText(), c.MeasuredText(), orDash(c.RunIDs()), c.VerdictText(), how}
		if peer {
			verdict := c.VerdictText()
			if a := c.Attribution(); a != "" {
				verdict += "; " + a
			}
			runs := strings.Join(slices.DeleteFunc([]string{c.RunIDs(), c.Peer.RunIDs()}, func(s string) bool { return s == "" }), " / ")
			row = []string{c.Section, c.Text, c.CourseText(), c.MeasuredText(), c.PeerText(), verdict, how, orDash(runs)}
		}
		t.rows = append(t.rows, row)
		t.rowCls = append(t.rowCls, verdictClass(c.Verdict))
	}
	return t
}

// Tally counts the audit's verdicts.
func (r *Report) Tally() map[Verdict]int {
	m := map[Verdict]int{}
	for _, c := range r.Claims {
		m[c.Verdict]++
	}
	return m
}

// AuditSummary counts the verdicts in a sentence: "25 claims: 9 hold, 2 differ, …".
func (r *Report) AuditSummary() string {
	t := r.Tally()
	return fmt.Sprintf("%d claims: %d hold, %d differ, %d not comparable, %d not measured.",
		len(r.Claims), t[Holds], t[Differs], t[NotComparable], t[NotMeasured])
}

// qualityIntro says what the quality table measures.
const qualityIntro = "On the test split (for denoising runs: denoised outputs against the clean images)."

// auditIntro introduces the claims table: what was checked and against which runs.
func (r *Report) auditIntro() string {
	return fmt.Sprintf("Each numeric claim of the course, measured from the runs above. %s "+
		"Claims about trained models are only compared with runs as long as the course's (vanilla %d, deep %d, denoise %d epochs) on the full data set.",
		r.AuditSummary(), courseEpochs[aelib.ModelVanilla], courseEpochs[aelib.ModelDeep], courseEpochs[aelib.ModelDenoise])
}

// ---- HTML

const css = `
.aelab-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;line-height:1.45;max-width:1150px;margin:0 auto;padding:8px 16px}
.aelab-report h1{font-size:1.7em;margin:.3em 0;border-bottom:3px solid #3a6ea5;padding-bottom:.2em}
.aelab-report h2{font-size:1.3em;margin-top:1.6em;color:#2c4f7a;border-bottom:1px solid #d5dbe5}
.aelab-report h3{font-size:1.05em;margin:1em 0 .3em}
.aelab-report .meta{color:#555;font-size:.92em}
.aelab-report table{border-collapse:collapse;margin:.5em 0 1em;font-size:.88em}
.aelab-report th,.aelab-report td{border:1px solid #d5dbe5;padding:4px 8px;vertical-align:top}
.aelab-report thead th{background:#eef2f8;text-align:left}
.aelab-report tfoot th,.aelab-report tfoot td{background:#f7f9fc}
.aelab-report td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.aelab-report tbody tr:nth-child(even){background:#fafbfd}
.aelab-report table.claims tr.holds td:nth-child(6){background:#e3f4e6;color:#17612a;font-weight:600}
.aelab-report table.claims tr.differs td:nth-child(6){background:#fbe6e3;color:#9b2516;font-weight:600}
.aelab-report table.claims tr.notcomparable td:nth-child(6){background:#f3f0e2;color:#6b5d1c}
.aelab-report table.claims tr.notmeasured td:nth-child(6){background:#eeeeee;color:#666}
.aelab-report table.claims td:nth-child(7){font-size:.92em;color:#444;max-width:360px}
.aelab-report .figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:12px 20px;align-items:start}
.aelab-report figure{margin:0}
.aelab-report figure img{width:100%;height:auto;border:1px solid #d5dbe5;background:#fff}
.aelab-report figure.grid{grid-column:1/-1}
.aelab-report figure.grid img{width:auto;max-width:100%;image-rendering:pixelated}
.aelab-report figcaption{font-size:.85em;color:#555;max-width:620px}
.aelab-report details{margin:.4em 0}
.aelab-report .notes li{color:#8a4b00}
`

// HTML is the report as an HTML fragment with its own (scoped) style: for a notebook cell
// (GoNB's gonbui.DisplayHTML) or to embed in a page. Figures are inlined as data: URIs.
func (r *Report) HTML() string {
	var b strings.Builder
	b.WriteString(`<div class="aelab-report"><style>` + css + "</style>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(r.Title))
	fmt.Fprintf(&b, `<p class="meta">Generated %s on %s from the store <code>%s</code>. Runs: %s (%d).</p>`+"\n",
		esc(r.Generated.Format("2006-01-02 15:04:05 MST")), esc(orDash(r.Host)), esc(r.StorePath), esc(r.Query), len(r.Runs))
	b.WriteString("<h2>Runs</h2>\n")
	r.runsTable().html(&b)
	if keys := r.sharedMetrics(); len(keys) > 0 {
		b.WriteString("<h2>Metrics the runs share</h2>\n")
		r.sharedTable(keys).html(&b)
	}
	if len(r.courseRuns()) == 0 {
		b.WriteString("<h2>Figures</h2>\n")
		figuresHTML(&b, r.Figures)
		notesHTML(&b, r.Notes)
		b.WriteString("</div>\n")
		return b.String()
	}

	b.WriteString("<h2>Architecture</h2>\n")
	r.architectureTable().html(&b)
	for _, run := range r.architectures() {
		fmt.Fprintf(&b, "<details><summary>Layers of %s (run %s)</summary>%s</details>\n", esc(run.Model()), esc(run.Record.ShortID()), run.Summary.HTML())
	}

	b.WriteString("<h2>Training</h2>\n")
	r.trainingTable().html(&b)

	b.WriteString("<h2>Quality</h2>\n<p>" + qualityIntro + "</p>\n")
	r.qualityTable().html(&b)
	if t, ok := r.denoisingTable(); ok {
		b.WriteString("<h3>Denoising: noisy and denoised against clean</h3>\n")
		t.html(&b)
	}

	b.WriteString("<h2>Figures</h2>\n")
	figuresHTML(&b, r.Figures)

	b.WriteString("<h2>Course claims audit</h2>\n")
	b.WriteString("<p>" + esc(r.auditIntro()) + "</p>\n")
	r.claimsTable().html(&b)

	notesHTML(&b, r.Notes)
	b.WriteString("</div>\n")
	return b.String()
}

// figuresHTML is a grid of figures with their captions, inlined as data: URIs.
func figuresHTML(b *strings.Builder, figures []*Figure) {
	b.WriteString("<div class=\"figures\">\n")
	for _, f := range figures {
		fmt.Fprintf(b, `<figure class="%s"><img alt="%s" src="%s"><figcaption><b>%s.</b> %s</figcaption></figure>`+"\n",
			esc(f.Kind), esc(f.Title), f.DataURI(), esc(f.Title), esc(f.Caption))
	}
	b.WriteString("</div>\n")
}

func notesHTML(b *strings.Builder, notes []string) {
	if len(notes) == 0 {
		return
	}
	b.WriteString(`<h2>Notes</h2><ul class="notes">`)
	for _, n := range notes {
		fmt.Fprintf(b, "<li>%s</li>", esc(n))
	}
	b.WriteString("</ul>\n")
}

// document wraps an HTML fragment into a complete, self-contained page.
func document(title, fragment string) string {
	return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
		"<title>" + esc(title) + "</title><style>body{margin:0;background:#fff}</style></head><body>\n" + fragment + "</body></html>\n"
}

// Document is the report as a complete, self-contained HTML page (no external assets).
func (r *Report) Document() string { return document(r.Title, r.HTML()) }

// ---- Markdown

// Markdown is the report as Markdown; figures are linked as NAME.png beside the file (WriteDir
// writes them).
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	fmt.Fprintf(&b, "Generated %s on %s from the store `%s`. Runs: %s (%d).\n\n",
		r.Generated.Format("2006-01-02 15:04:05 MST"), orDash(r.Host), r.StorePath, r.Query, len(r.Runs))
	b.WriteString("## Runs\n\n")
	r.runsTable().markdown(&b)
	if keys := r.sharedMetrics(); len(keys) > 0 {
		b.WriteString("## Metrics the runs share\n\n")
		r.sharedTable(keys).markdown(&b)
	}
	if len(r.courseRuns()) == 0 {
		b.WriteString("## Figures\n\n")
		figuresMarkdown(&b, r.Figures)
		notesMarkdown(&b, r.Notes)
		return b.String()
	}
	b.WriteString("## Architecture\n\n")
	r.architectureTable().markdown(&b)
	for _, run := range r.architectures() {
		fmt.Fprintf(&b, "```\n%s```\n\n", run.Summary.String())
	}
	b.WriteString("## Training\n\n")
	r.trainingTable().markdown(&b)
	b.WriteString("## Quality\n\n" + qualityIntro + "\n\n")
	r.qualityTable().markdown(&b)
	if t, ok := r.denoisingTable(); ok {
		b.WriteString("### Denoising: noisy and denoised against clean\n\n")
		t.markdown(&b)
	}
	b.WriteString("## Figures\n\n")
	figuresMarkdown(&b, r.Figures)
	b.WriteString("## Course claims audit\n\n")
	b.WriteString(r.auditIntro() + "\n\n")
	r.claimsTable().markdown(&b)
	notesMarkdown(&b, r.Notes)
	return b.String()
}

// figuresMarkdown links each figure as NAME.png (and its SVG) with its caption.
func figuresMarkdown(b *strings.Builder, figures []*Figure) {
	for _, f := range figures {
		fmt.Fprintf(b, "![%s](%s.png)\n\n*%s.* %s", f.Title, f.Name, f.Title, f.Caption)
		if f.SVG != nil {
			fmt.Fprintf(b, " ([SVG](%s.svg))", f.Name)
		}
		b.WriteString("\n\n")
	}
}

func notesMarkdown(b *strings.Builder, notes []string) {
	if len(notes) == 0 {
		return
	}
	b.WriteString("## Notes\n\n")
	for _, n := range notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	b.WriteString("\n")
}
