package main

// `aelab experiments`: the store's experiments and their run counts.

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/aelab/aelab/tracker"
)

// runExperiments is `aelab experiments list`.
func runExperiments(args []string, stdout, stderr io.Writer) error {
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
		return writeJSON(stdout, exps)
	}
	if len(exps) == 0 {
		fmt.Fprintf(stdout, "no experiments yet (store %s)\n", s.Path())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tRUNS\tLAST RUN\tCREATED")
	for _, e := range exps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", termArgs(e.Name, e.Runs, fmtRunTime(e.LastRun), fmtRunTime(e.Created))...)
	}
	return tw.Flush()
}
