package main

// The run history commands, `aelab runs …`: their shared flags and output helpers. Each
// subcommand lives in a file of its own (runs_list.go, runs_show.go, …) and has its entry in
// the command table (commands.go).
//
// A subcommand gets the arguments after its name and returns usagef(…) for command-line
// mistakes. newRunsFlags and parseFlags give it the shared --db flag and flags after
// positional arguments (aelab runs show ID --json).

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/termtext"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

// printRunsQueries prints what `aelab runs help` says after the subcommands: the query
// language of --where and --order-by, and the store.
func printRunsQueries(w io.Writer) {
	fmt.Fprintf(w, "Queries (--where): metrics.%s < 0.1 and params.model = \"deep\" or tags.x like 'a%%'\n", experiments.ValBCE.Name)
	fmt.Fprintf(w, "Order (--order-by): metrics.%s asc, attributes.start_time desc\n", experiments.ValMSE.Name)
	fmt.Fprintf(w, "Store: --db PATH or postgres:// URL, default %s ($AELAB_DB)\n", tracker.RedactURL(tracker.DefaultPath()))
}

// ---- flags and store

// newRunsFlags is a FlagSet for a runs subcommand, with --db and --artifacts.
func newRunsFlags(name, usage string, stderr io.Writer) (*flag.FlagSet, *storeArg) {
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
	var qe *query.Error
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
	var qe *query.Error
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

// writeJSON writes v as indented JSON, the --json output of the commands.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

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

// runsClip escapes s for a terminal and shortens the result to n characters, marking the cut
// with "…" (termtext.Clip: an escape is never cut in half).
func runsClip(s string, n int) string { return termtext.Clip(s, n) }

func runsSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
