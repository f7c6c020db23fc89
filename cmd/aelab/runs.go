package main

// The run history commands: `aelab runs …` and `aelab experiments …`, reading and
// editing the tracker store.
//
// Adding a `runs` subcommand: either add an entry to runsSubcommands below, or
// call registerRunsSubcommand from an init() in your own file (e.g. runs_reproduce.go):
//
//	func init() { registerRunsSubcommand("reproduce", "run a stored config again", runsReproduce) }
//
// A subcommand gets the arguments after its name and returns usagef(…) for
// command-line mistakes. newRunsFlags and parseRunsArgs give it the shared
// --db flag and flags after positional arguments (aelab runs show ID --json).

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

// runsSubcommand is one `aelab runs` subcommand.
type runsSubcommand struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// runsSubcommands are the `aelab runs` subcommands by name.
var runsSubcommands = map[string]runsSubcommand{
	"list":    {"list runs as a table (--where, --order-by, --limit, --json, --csv, --all)", runsList},
	"show":    {"everything about one run: config, params, environment, metrics, history, artifacts", runsShow},
	"compare": {"compare runs side by side: params, final metrics, loss per epoch", runsCompare},
	"export":  {"write runs as CSV or JSON (--csv|--json, --where, --out FILE)", runsExport},
	"tag":     {"set tags on a run: aelab runs tag ID key=value…", runsTag},
	"delete":  {"hide a run from lists (soft delete; --all shows it again)", runsDelete},
}

// registerRunsSubcommand adds a `aelab runs` subcommand; call it from an init().
func registerRunsSubcommand(name, summary string, run func(args []string, stdout, stderr io.Writer) error) {
	runsSubcommands[name] = runsSubcommand{summary, run}
}

func init() {
	register(command{name: "runs", summary: "the run history: list, show, compare, export, tag, delete", run: runRuns})
	register(command{name: "experiments", summary: "list experiments and their run counts", run: runExperiments})
}

func runRuns(args []string, stdout, stderr io.Writer) error {
	return runSubcommand("runs", "list|show|compare|…", runsSubcommands, printRunsHelp, args, stdout, stderr)
}

// runSubcommand runs the subcommand args[0] of a command made of subcommands (aelab runs …,
// aelab sweep …); help prints the group's usage. Errors name the subcommand.
func runSubcommand(group, names string, subs map[string]runsSubcommand, help func(io.Writer), args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		help(stderr)
		return usagef("missing subcommand (aelab %s %s)", group, names)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		help(stdout)
		return nil
	}
	sub, ok := subs[args[0]]
	if !ok {
		return usagef("unknown subcommand %q (run `aelab %s help`)", args[0], group)
	}
	if err := sub.run(args[1:], stdout, stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return usageError{fmt.Errorf("%s: %w", args[0], ue.err)}
		}
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

func printRunsHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: aelab runs <subcommand> [flags]   (aelab runs <subcommand> -h for its flags)\n\nSubcommands:")
	for _, n := range slices.Sorted(maps.Keys(runsSubcommands)) {
		fmt.Fprintf(w, "  %-10s %s\n", n, runsSubcommands[n].summary)
	}
	fmt.Fprintf(w, "\nQueries (--where): metrics.%s < 0.1 and params.model = \"deep\" or tags.x like 'a%%'\n", experiments.ValBCE.Name)
	fmt.Fprintln(w, "Order (--order-by): metrics.val_mse asc, attributes.start_time desc")
	fmt.Fprintf(w, "Store: --db PATH or postgres:// URL, default %s ($AELAB_DB)\n", tracker.RedactURL(tracker.DefaultPath()))
}

// ---- flags and store

// newRunsFlags is a FlagSet for a runs subcommand, with --db.
func newRunsFlags(name, usage string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: aelab %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs, storeFlag(fs)
}

// runsQueryErr makes a bad --where/--order-by a usage error, with a caret under the column.
func runsQueryErr(err error, flagName, q string, stderr io.Writer) error {
	var qe *tracker.QueryError
	if !errors.As(err, &qe) {
		return err
	}
	if qe.Query == q && q != "" {
		fmt.Fprintf(stderr, "  %s %s\n  %s %s^\n", flagName, q, strings.Repeat(" ", len(flagName)), strings.Repeat(" ", max(0, qe.Column-1)))
	}
	return usagef("%s: %v", flagName, qe)
}

// searchRunStore runs a search, mapping query errors to usage errors.
func searchRunStore(s *tracker.Store, q tracker.Search, stderr io.Writer) ([]*tracker.RunRecord, error) {
	runs, err := s.SearchRuns(q)
	if err != nil {
		return nil, searchErr(err, q, stderr)
	}
	return runs, nil
}

// searchErr makes the error of a search for q a usage error when the query is at fault.
func searchErr(err error, q tracker.Search, stderr io.Writer) error {
	var qe *tracker.QueryError
	if errors.As(err, &qe) {
		if qe.Query == q.OrderBy && q.OrderBy != "" {
			return runsQueryErr(err, "--order-by", q.OrderBy, stderr)
		}
		return runsQueryErr(err, "--where", q.Filter, stderr)
	}
	if strings.HasPrefix(err.Error(), "query:") {
		return usagef("%v", err)
	}
	return err
}

// ---- formatting helpers

func fmtRunDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// runsTable is a tabwriter whose lines lose their trailing blanks.
type runsTable struct {
	*tabwriter.Writer
	buf bytes.Buffer
	out io.Writer
}

func newRunsTable(out io.Writer, flags uint) *runsTable {
	t := &runsTable{out: out}
	t.Writer = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', flags)
	return t
}

func (t *runsTable) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(t.buf.String(), "\n") {
		if trimmed := strings.TrimRight(line, " \n"); trimmed != "" || line != "" {
			if strings.HasSuffix(line, "\n") {
				trimmed += "\n"
			}
			if _, err := io.WriteString(t.out, trimmed); err != nil {
				return err
			}
		}
	}
	t.buf.Reset()
	return nil
}

func fmtRunTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func runsOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runsClip shortens s to n characters, marking the cut with "…".
func runsClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}

func runsSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- list

func runsList(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs list", "runs list [--where Q] [--order-by Q] [--limit N] [--json|--csv] [--all] [--db PATH]", stderr)
	where := fs.String("where", "", "filter `query`, e.g. 'metrics."+experiments.ValBCE.Name+" < 0.1 and params.model = \"deep\"'")
	orderBy := fs.String("order-by", "", "order, e.g. 'metrics.val_mse asc' (default newest first)")
	limit := fs.Int("limit", 20, "show at most `N` runs (0: all)")
	asJSON := fs.Bool("json", false, "print full records, with per-epoch metric histories, as JSON")
	asCSV := fs.Bool("csv", false, "print CSV")
	all := fs.Bool("all", false, "include deleted runs")
	experiment := fs.String("experiment", "", "only runs of this experiment")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (filters go in --where)", pos[0])
	}
	if *asJSON && *asCSV {
		return usagef("--json and --csv exclude each other")
	}
	if *limit < 0 {
		return usagef("--limit must be ≥ 0")
	}
	s, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	q := tracker.Search{Filter: *where, OrderBy: *orderBy, Limit: *limit, IncludeDeleted: *all, Experiment: *experiment}
	if *asJSON {
		if _, err := writeRunsJSON(s, q, stdout); err != nil {
			return searchErr(err, q, stderr)
		}
		return nil
	}
	if !*asCSV {
		q.Columns = runsTableColumns() // all the table shows: a few keys, not a run's hundred
	}
	runs, err := searchRunStore(s, q, stderr)
	if err != nil {
		return err
	}
	if *asCSV {
		return writeRunsCSV(runs, stdout)
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "no runs match (store %s)\n", s.Path())
		return nil
	}
	writeRunsTable(runs, stdout)
	return nil
}

// runsTableMetrics are the metrics writeRunsTable shows (those the runs have).
var runsTableMetrics = []experiments.Metric{experiments.ValBCE, experiments.ValMSE}

// runsTableColumns are the params and metrics writeRunsTable reads.
func runsTableColumns() []tracker.Field {
	cols := []tracker.Field{{Kind: tracker.FieldParam, Key: "model"}, {Kind: tracker.FieldParam, Key: "epochs"}}
	for _, m := range runsTableMetrics {
		cols = append(cols, tracker.Field{Kind: tracker.FieldMetric, Key: m.Name})
	}
	return cols
}

func writeRunsTable(runs []*tracker.RunRecord, w io.Writer) {
	var metricCols []string
	for _, m := range runsTableMetrics {
		for _, r := range runs {
			if _, ok := r.Metrics[m.Name]; ok {
				metricCols = append(metricCols, m.Name)
				break
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"ID", "NAME", "MODEL", "STATUS", "EPOCHS"}
	for _, k := range metricCols {
		head = append(head, strings.ToUpper(k))
	}
	head = append(head, "START", "DURATION")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range runs {
		status := string(r.Status)
		if r.Deleted {
			status += " (deleted)"
		}
		row := []string{r.ShortID(), runsClip(r.Name, 24), runsClip(runsOrDash(r.Params["model"]), 12), status, runsOrDash(r.Params["epochs"])}
		for _, k := range metricCols {
			if v, ok := r.Metrics[k]; ok {
				row = append(row, experiments.FormatMetric(k, v))
			} else {
				row = append(row, "-")
			}
		}
		row = append(row, fmtRunTime(r.StartTime), fmtRunDuration(r.Duration()))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

func writeRunsCSV(runs []*tracker.RunRecord, w io.Writer) error {
	params, metrics, tags := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range runs {
		for k := range r.Params {
			params[k] = true
		}
		for k := range r.Metrics {
			metrics[k] = true
		}
		for k := range r.Tags {
			tags[k] = true
		}
	}
	pk, mk, tk := runsSortedKeys(params), runsSortedKeys(metrics), runsSortedKeys(tags)
	cw := csv.NewWriter(w)
	head := []string{"id", "experiment", "name", "status", "start_time", "end_time", "duration_s", "source", "error"}
	for _, k := range pk {
		head = append(head, "params."+k)
	}
	for _, k := range mk {
		head = append(head, "metrics."+k)
	}
	for _, k := range tk {
		head = append(head, "tags."+k)
	}
	cw.Write(head)
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range runs {
		row := []string{r.ID, r.Experiment, r.Name, string(r.Status), ts(r.StartTime), ts(r.EndTime),
			strconv.FormatFloat(r.Duration().Seconds(), 'f', 1, 64), r.Source, r.Error}
		for _, k := range pk {
			row = append(row, r.Params[k])
		}
		for _, k := range mk {
			if v, ok := r.Metrics[k]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		for _, k := range tk {
			row = append(row, r.Tags[k])
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// ---- show

func runsShow(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs show", "runs show ID [--json] [--db PATH]", stderr)
	asJSON := fs.Bool("json", false, "print the full record, with metric histories, as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) != 1 {
		return usagef("want exactly one run ID (or unique prefix), got %d arguments", len(pos))
	}
	s, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	if *asJSON {
		id, err := s.ResolveRunID(pos[0])
		if err != nil {
			return err
		}
		return writeRunJSON(s, id, stdout)
	}
	r, err := s.GetRun(pos[0])
	if err != nil {
		return err
	}
	hist, err := s.MetricHistories(r.ID)
	if err != nil {
		return err
	}
	writeRunText(r, hist, stdout)
	return nil
}

func writeRunText(r *tracker.RunRecord, hist map[string][]tracker.MetricPoint, w io.Writer) {
	fmt.Fprintf(w, "Run %s  %s\n", r.ID, r.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	status := string(r.Status)
	if r.Deleted {
		status += " (deleted)"
	}
	fmt.Fprintf(tw, "  experiment\t%s\n  status\t%s\n", r.Experiment, status)
	if r.Error != "" {
		fmt.Fprintf(tw, "  reason\t%s\n", r.Error)
	}
	ended := "-"
	if !r.EndTime.IsZero() {
		ended = r.EndTime.Local().Format("2006-01-02 15:04:05")
	}
	fmt.Fprintf(tw, "  started\t%s\n  ended\t%s\n  duration\t%s\n", r.StartTime.Local().Format("2006-01-02 15:04:05"),
		ended, fmtRunDuration(r.Duration()))
	fmt.Fprintf(tw, "  source\t%s\n  process\tpid %d on %s\n", runsOrDash(r.Source), r.OwnerPID, runsOrDash(r.OwnerHost))
	tw.Flush()

	if len(r.Config) > 0 {
		var buf bytes.Buffer
		fmt.Fprintln(w, "\nConfig:")
		if json.Indent(&buf, r.Config, "  ", "  ") == nil {
			fmt.Fprintf(w, "  %s\n", buf.String())
		} else {
			fmt.Fprintf(w, "  %s\n", r.Config)
		}
	}

	env := map[string]string{}
	plain := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			if strings.HasPrefix(k, "env.") {
				env[k] = v
			} else {
				out[k] = v
			}
		}
		return out
	}
	params, tags := plain(r.Params), plain(r.Tags)
	writeRunKV(w, "Params", params)
	writeRunKV(w, "Tags", tags)
	writeRunKV(w, "Environment", env)

	if len(r.LatestMetrics) > 0 {
		fmt.Fprintln(w, "\nMetrics (latest):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range runsSortedKeys(r.LatestMetrics) {
			if isSystemMetric(k) {
				continue
			}
			p := r.LatestMetrics[k]
			fmt.Fprintf(tw, "  %s\t%s\tstep %d, epoch %d\n", k, experiments.FormatMetric(k, p.Value), p.Step, p.Epoch)
		}
		tw.Flush()
	}

	var several []string
	for _, k := range runsSortedKeys(hist) {
		if len(hist[k]) > 1 && !isSystemMetric(k) {
			several = append(several, k)
		}
	}
	if len(several) > 0 {
		fmt.Fprintln(w, "\nHistory:")
		writeHistoryTable(w, several, func(k string) []tracker.MetricPoint { return hist[k] })
	}
	writeSystemSummary(w, hist)

	if len(r.Artifacts) > 0 {
		fmt.Fprintln(w, "\nArtifacts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, a := range r.Artifacts {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Kind, a.Path, a.Description)
		}
		tw.Flush()
	}
}

func writeRunKV(w io.Writer, title string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range runsSortedKeys(m) {
		fmt.Fprintf(tw, "  %s\t%s\n", k, m[k])
	}
	tw.Flush()
}

// runsPerEpoch keeps the last point of each epoch; ok is false when the points carry
// no epochs (all 0), and then the rows are steps.
func runsPerEpoch(points []tracker.MetricPoint) (rows map[int64]float64, byEpoch bool) {
	for _, p := range points {
		if p.Epoch != 0 {
			byEpoch = true
			break
		}
	}
	rows = map[int64]float64{}
	for _, p := range points { // points are in step order: the last one of an epoch wins
		if byEpoch {
			rows[int64(p.Epoch)] = p.Value
		} else {
			rows[p.Step] = p.Value
		}
	}
	return rows, byEpoch
}

// maxRunHistoryRows is where a history table shows its head and tail only.
const maxRunHistoryRows = 30

// writeHistoryTable prints one row per epoch (or step) and one column per key.
func writeHistoryTable(w io.Writer, keys []string, points func(string) []tracker.MetricPoint) {
	const perTable = 7 // columns that fit in 100 characters
	for start := 0; start < len(keys); start += perTable {
		part := keys[start:min(start+perTable, len(keys))]
		heads := make([]string, len(part))
		series := make([][]tracker.MetricPoint, len(part))
		for i, k := range part {
			heads[i], series[i] = runsClip(k, 14), points(k)
		}
		writeEpochTable(w, heads, part, series, "")
	}
}

// writeEpochTable prints one row per epoch and one column per series, headed by heads and
// formatted as the metrics named in keys: the last point of each epoch, or of each step where a
// series carries no epochs. A series with no point in a row shows missing there. A long table
// shows its head and tail only.
func writeEpochTable(w io.Writer, heads, keys []string, series [][]tracker.MetricPoint, missing string) {
	cols := make([]map[int64]float64, len(series))
	index := map[int64]bool{}
	label := "epoch"
	for i, points := range series {
		var byEpoch bool
		cols[i], byEpoch = runsPerEpoch(points)
		if !byEpoch && len(cols[i]) > 0 {
			label = "step"
		}
		for x := range cols[i] {
			index[x] = true
		}
	}
	xs := make([]int64, 0, len(index))
	for x := range index {
		xs = append(xs, x)
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	tw := newRunsTable(w, tabwriter.AlignRight)
	fmt.Fprintln(tw, "  "+label+"\t"+strings.Join(heads, "\t")+"\t")
	for i, x := range xs {
		if len(xs) > maxRunHistoryRows && i == maxRunHistoryRows/2 {
			fmt.Fprintf(tw, "  …%d more…\t\n", len(xs)-maxRunHistoryRows)
		}
		if len(xs) > maxRunHistoryRows && i >= maxRunHistoryRows/2 && i < len(xs)-maxRunHistoryRows/2 {
			continue
		}
		row := []string{"  " + strconv.FormatInt(x, 10)}
		for i, c := range cols {
			if v, ok := c[x]; ok {
				row = append(row, experiments.FormatMetric(keys[i], v))
			} else {
				row = append(row, missing)
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

// ---- compare

func runsCompare(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs compare", "runs compare ID ID… [--db PATH]", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) < 2 {
		return usagef("want at least two run IDs to compare, got %d", len(pos))
	}
	s, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	runs := make([]*tracker.RunRecord, len(pos))
	hists := make([]map[string][]tracker.MetricPoint, len(pos))
	for i, id := range pos {
		if runs[i], err = s.GetRun(id); err != nil {
			return err
		}
		if hists[i], err = s.MetricHistories(runs[i].ID); err != nil {
			return err
		}
	}
	// Column width: the label takes 24, runs share the rest of 100 columns.
	width := max(10, min(24, (100-26)/len(runs)-2))
	row := func(tw io.Writer, mark, label string, cells []string) {
		line := fmt.Sprintf("%s %s", mark, runsClip(label, 22))
		for _, c := range cells {
			line += "\t" + runsClip(c, width)
		}
		fmt.Fprintln(tw, line+"\t")
	}
	tw := newRunsTable(stdout, 0)
	cells := func(f func(r *tracker.RunRecord) string) []string {
		out := make([]string, len(runs))
		for i, r := range runs {
			out[i] = f(r)
		}
		return out
	}
	row(tw, " ", "run", cells(func(r *tracker.RunRecord) string { return r.ShortID() }))
	row(tw, " ", "name", cells(func(r *tracker.RunRecord) string { return r.Name }))
	row(tw, " ", "experiment", cells(func(r *tracker.RunRecord) string { return r.Experiment }))
	row(tw, " ", "status", cells(func(r *tracker.RunRecord) string { return string(r.Status) }))
	row(tw, " ", "start", cells(func(r *tracker.RunRecord) string { return fmtRunTime(r.StartTime) }))
	row(tw, " ", "duration", cells(func(r *tracker.RunRecord) string { return fmtRunDuration(r.Duration()) }))

	keys := map[string]bool{}
	for _, r := range runs {
		for k := range r.Params {
			keys[k] = true
		}
	}
	if len(keys) > 0 {
		fmt.Fprintln(tw, "Params (* differs)"+strings.Repeat("\t", len(runs)+1))
		for _, k := range runsSortedKeys(keys) {
			vals := cells(func(r *tracker.RunRecord) string {
				if v, ok := r.Params[k]; ok {
					return v
				}
				return "-"
			})
			mark := " "
			for _, v := range vals[1:] {
				if v != vals[0] {
					mark = "*"
				}
			}
			row(tw, mark, k, vals)
		}
	}
	mkeys := map[string]bool{}
	for _, r := range runs {
		for k := range r.Metrics {
			mkeys[k] = true
		}
	}
	if len(mkeys) > 0 {
		fmt.Fprintln(tw, "Final metrics"+strings.Repeat("\t", len(runs)+1))
		for _, k := range runsSortedKeys(mkeys) {
			row(tw, " ", k, cells(func(r *tracker.RunRecord) string {
				if v, ok := r.Metrics[k]; ok {
					return experiments.FormatMetric(k, v)
				}
				return "-"
			}))
		}
	}
	tw.Flush()

	// Per-epoch history of the main loss keys.
	for _, k := range runsLossKeys(hists) {
		fmt.Fprintf(stdout, "\nHistory of %s:\n", k)
		heads, keys := make([]string, len(runs)), make([]string, len(runs))
		series := make([][]tracker.MetricPoint, len(runs))
		for i, r := range runs {
			heads[i], keys[i], series[i] = r.ShortID(), k, hists[i][k]
		}
		writeEpochTable(stdout, heads, keys, series, "-")
	}
	return nil
}

// runsLossKeys picks the metrics whose history compare shows: the schema's losses
// (experiments.Losses) where logged, else up to two keys with several points.
func runsLossKeys(hists []map[string][]tracker.MetricPoint) []string {
	var out []string
	for _, m := range experiments.Losses() {
		for _, h := range hists {
			if len(h[m.Name]) > 1 {
				out = append(out, m.Name)
				break
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	several := map[string]bool{}
	for _, h := range hists {
		for k, ps := range h {
			if len(ps) > 1 {
				several[k] = true
			}
		}
	}
	keys := runsSortedKeys(several)
	sort.SliceStable(keys, func(i, j int) bool { // loss-like keys first
		return strings.Contains(keys[i], "loss") && !strings.Contains(keys[j], "loss")
	})
	return keys[:min(2, len(keys))]
}

// ---- export

func runsExport(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs export", "runs export --csv|--json [--where Q] [--order-by Q] [--all] [--out FILE] [--db PATH]", stderr)
	asJSON := fs.Bool("json", false, "write JSON (full records with metric histories)")
	asCSV := fs.Bool("csv", false, "write CSV (one row per run, latest metrics)")
	where := fs.String("where", "", "filter `query`")
	orderBy := fs.String("order-by", "", "order `query`")
	all := fs.Bool("all", false, "include deleted runs")
	outPath := fs.String("out", "", "write to `FILE` instead of standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *asJSON == *asCSV {
		return usagef("choose one of --csv and --json")
	}
	s, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	q := tracker.Search{Filter: *where, OrderBy: *orderBy, IncludeDeleted: *all}
	export := func(w io.Writer) (int, error) {
		if *asJSON {
			n, err := writeRunsJSON(s, q, w)
			if err != nil {
				return n, searchErr(err, q, stderr)
			}
			return n, nil
		}
		runs, err := searchRunStore(s, q, stderr)
		if err != nil {
			return 0, err
		}
		return len(runs), writeRunsCSV(runs, w)
	}
	if *outPath == "" {
		_, err = export(stdout)
		return err
	}
	n, err := writeFileReplacing(*outPath, export)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d runs to %s\n", n, *outPath)
	return nil
}

// writeFileReplacing streams what write writes into a new file beside path and renames it
// over path, so a failed export leaves no half file and an export of a million metric values
// is never held in memory. It returns write's count.
func writeFileReplacing(path string, write func(io.Writer) (int, error)) (n int, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	n, err = write(f)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing %s: %w", path, cerr)
	}
	if err != nil {
		return n, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return n, fmt.Errorf("writing %s: %w", path, err)
	}
	return n, nil
}

// ---- tag, delete

func runsTag(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs tag", "runs tag ID key=value [key=value…] [--db PATH]", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) < 2 {
		return usagef("want a run ID and at least one key=value")
	}
	tags := make([][2]string, 0, len(pos)-1)
	for _, kv := range pos[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return usagef("tag %q is not key=value", kv)
		}
		tags = append(tags, [2]string{strings.TrimSpace(k), v})
	}
	s, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	id, err := s.ResolveRunID(pos[0])
	if err != nil {
		return err
	}
	for _, kv := range tags {
		if err := s.SetTag(id, kv[0], kv[1]); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "tagged run %s: %d tag(s)\n", id[:8], len(tags))
	return nil
}

func runsDelete(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs delete", "runs delete ID [ID…] [--db PATH]", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) == 0 {
		return usagef("want the ID of the run to delete")
	}
	s, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, p := range pos {
		r, err := s.GetRun(p)
		if err != nil {
			return err
		}
		if err := s.DeleteRun(r.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted run %s (%s); `aelab runs list --all` still shows it\n", r.ShortID(), r.Name)
	}
	return nil
}

// ---- experiments

func runExperiments(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "Usage: aelab experiments list [--json] [--db PATH]")
		return nil
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if args[0] != "list" {
			return usagef("unknown subcommand %q (aelab experiments list)", args[0])
		}
		args = args[1:]
	}
	fs, db := newRunsFlags("experiments list", "experiments list [--json] [--db PATH]", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	s, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	exps, err := s.Experiments()
	if err != nil {
		return err
	}
	if *asJSON {
		if exps == nil {
			exps = []tracker.ExperimentInfo{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(exps)
	}
	if len(exps) == 0 {
		fmt.Fprintf(stdout, "no experiments yet (store %s)\n", s.Path())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tRUNS\tLAST RUN\tCREATED")
	for _, e := range exps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", e.Name, e.Runs, fmtRunTime(e.LastRun), fmtRunTime(e.Created))
	}
	return tw.Flush()
}
