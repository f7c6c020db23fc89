package main

// `aelab runs show` and `aelab runs compare`: one run in full, runs side by side.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/termtext"
	"github.com/aelab/aelab/tracker"
)

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
	fmt.Fprintf(w, "Run %s  %s\n", termArgs(r.ID, r.Name)...)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	status := string(r.Status)
	if r.Deleted {
		status += " (deleted)"
	}
	fmt.Fprintf(tw, "  experiment\t%s\n  status\t%s\n", termArgs(r.Experiment, status)...)
	if r.Error != "" {
		fmt.Fprintf(tw, "  reason\t%s\n", termArgs(r.Error)...)
	}
	ended := "-"
	if !r.EndTime.IsZero() {
		ended = r.EndTime.Local().Format("2006-01-02 15:04:05")
	}
	fmt.Fprintf(tw, "  started\t%s\n  ended\t%s\n  duration\t%s\n", r.StartTime.Local().Format("2006-01-02 15:04:05"),
		ended, fmtRunDuration(r.Duration()))
	fmt.Fprintf(tw, "  source\t%s\n  process\tpid %d on %s\n", termArgs(runsOrDash(r.Source), r.OwnerPID, runsOrDash(r.OwnerHost))...)
	tw.Flush()

	if len(r.Config) > 0 {
		var buf bytes.Buffer
		fmt.Fprintln(w, "\nConfig:")
		config := string(r.Config)
		if json.Indent(&buf, r.Config, "", "  ") == nil {
			config = buf.String()
		}
		for _, line := range strings.Split(config, "\n") {
			fmt.Fprintf(w, "  %s\n", termtext.Escape(line))
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
			fmt.Fprintf(tw, "  %s\t%s\tstep %d, epoch %d\n", termArgs(k, experiments.FormatMetric(k, p.Value), p.Step, p.Epoch)...)
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
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", termArgs(a.Kind, a.Path, a.Description)...)
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
		fmt.Fprintf(tw, "  %s\t%s\n", termArgs(k, m[k])...)
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

	if keys := keysOfRuns(runs, func(r *tracker.RunRecord) map[string]string { return r.Params }); len(keys) > 0 {
		fmt.Fprintln(tw, "Params (* differs)"+strings.Repeat("\t", len(runs)+1))
		for _, k := range keys {
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
	if keys := keysOfRuns(runs, func(r *tracker.RunRecord) map[string]float64 { return r.Metrics }); len(keys) > 0 {
		fmt.Fprintln(tw, "Final metrics"+strings.Repeat("\t", len(runs)+1))
		for _, k := range keys {
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
		fmt.Fprintf(stdout, "\nHistory of %s:\n", termArgs(k)...)
		heads, keys := make([]string, len(runs)), make([]string, len(runs))
		series := make([][]tracker.MetricPoint, len(runs))
		for i, r := range runs {
			heads[i], keys[i], series[i] = runsClip(r.ShortID(), 8), k, hists[i][k]
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

// keysOfRuns is the sorted union of the keys of one map of each run (params, metrics, …).
func keysOfRuns[V any](runs []*tracker.RunRecord, of func(*tracker.RunRecord) map[string]V) []string {
	union := map[string]bool{}
	for _, r := range runs {
		for k := range of(r) {
			union[k] = true
		}
	}
	return runsSortedKeys(union)
}
