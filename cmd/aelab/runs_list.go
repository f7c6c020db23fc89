package main

// `aelab runs list` and `aelab runs export`: runs as a table, CSV or JSON.

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/termtext"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

func runsList(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs list", "runs list [--where Q] [--order-by Q] [--limit N] [--json|--csv] [--all] [--db PATH]", stderr)
	where := fs.String("where", "", "filter `query`, e.g. 'metrics."+experiments.ValBCE.Name+" < 0.1 and params.model = \"deep\"'")
	orderBy := fs.String("order-by", "", "order, e.g. 'metrics."+experiments.ValMSE.Name+" asc' (default newest first)")
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
func runsTableColumns() []query.Field {
	cols := []query.Field{{Kind: query.FieldParam, Key: "model"}, {Kind: query.FieldParam, Key: "epochs"}}
	for _, m := range runsTableMetrics {
		cols = append(cols, query.Field{Kind: query.FieldMetric, Key: m.Name})
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
		row := []string{runsClip(r.ShortID(), 8), runsClip(r.Name, 24), runsClip(runsOrDash(r.Params["model"]), 12), termtext.Escape(status), runsClip(runsOrDash(r.Params["epochs"]), 8)}
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
	ks := tracker.RecordKeys(runs)
	pk, mk, tk := ks.Params, ks.Metrics, ks.Tags
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
