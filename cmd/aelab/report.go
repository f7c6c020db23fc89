package main

// `aelab report`: the comparison report of tracked runs (package reports).

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", stderr)
	where := fs.String("where", "", "runs to compare, a tracker filter (e.g. `params.model = \"deep\"`); default: the latest FINISHED run of each model")
	out := fs.String("out", "build/report", "folder to write the report to")
	format := fs.String("format", "html,md", "comma-separated formats: html (index.html), md (report.md)")
	db := storeFlag(fs)
	title := fs.String("title", "", "report title")
	images := fs.Int("images", 8, "test images per reconstruction grid")
	noGrids := fs.Bool("no-grids", false, "skip reconstruction grids (no checkpoints loaded)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: aelab report [--where Q] [--out DIR] [--format html,md] [--db PATH]")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	formats, err := reports.ParseFormats(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if *images < 1 || *images > 64 {
		return usagef("--images must be 1 to 64, got %d", *images)
	}
	if err := checkWritableDir(*out); err != nil {
		return usagef("--out: %v", err)
	}
	store, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	return writeReport(store, reports.Options{Where: *where, Title: *title, GridImages: *images, NoGrids: *noGrids}, *out, formats, stdout)
}

// writeReport builds the report opts select and writes it to dir in formats, saying where.
// A malformed --where is a usage error.
func writeReport(store *tracker.Store, opts reports.Options, dir string, formats []string, stdout io.Writer) error {
	rep, err := reports.Build(store, opts)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return usagef("--where: %v", err)
		}
		return err
	}
	if _, err := rep.WriteDir(dir, formats...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %d runs, %d figures; %s\n", len(rep.Runs), len(rep.Figures), rep.AuditSummary())
	for _, f := range formats {
		name := "index.html"
		if f == reports.FormatMarkdown {
			name = "report.md"
		}
		fmt.Fprintf(stdout, "  %s\n", filepath.Join(dir, name))
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "  note: %s\n", n)
	}
	return nil
}
