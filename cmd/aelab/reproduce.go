package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
)

func runsReproduce(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs reproduce", "runs reproduce ID [--db PATH]", stderr)
	progress := progressFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) != 1 {
		return usagef("want exactly one run ID (or unique prefix), got %d arguments", len(pos))
	}
	store, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := signalContext()
	defer stop()
	orig, res, err := experiments.Reproduce(ctx, store, pos[0], experiments.Options{ProgressBar: *progress, Log: stdout})
	var tooLarge *aelib.MemoryError
	if errors.As(err, &tooLarge) {
		return usageError{err} // refused before a run was recorded
	}
	if err != nil {
		return err
	}
	again, err := store.GetRun(res.RunID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nrun %s reproduces %s (%s, on %s; the original ran on %s)\n", termArgs(again.ShortID(), orig.ShortID(),
		orig.Name, again.Tags["env.backend"], orig.Tags["env.backend"])...)
	keys := make([]string, 0, len(orig.Metrics))
	for k := range orig.Metrics {
		if _, ok := again.Metrics[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\toriginal\treproduced\tdelta\tdelta %\t")
	for _, k := range keys {
		a, b := orig.Metrics[k], again.Metrics[k]
		rel := "–"
		if a != 0 {
			rel = fmt.Sprintf("%+.2f%%", 100*(b-a)/a)
		}
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%+.3g\t%s\t\n", termArgs(k, a, b, b-a, rel)...)
	}
	return tw.Flush()
}
