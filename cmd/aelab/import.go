package main

import (
	"fmt"
	"io"

	"github.com/aelab/aelab/track/gomlxhook"
)

// importGoMLX is `aelab import gomlx DIR`: a GoMLX checkpoint folder's training history as a
// new run.
func importGoMLX(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import gomlx", stderr)
	db := storeFlag(fs)
	name := fs.String("name", "", "run `name` (default: the folder's name)")
	experiment := fs.String("experiment", "gomlx-import", "`experiment` the run belongs to")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aelab import gomlx [flags] DIR

Records a GoMLX checkpoint folder's training history as a new FINISHED run: the points
GoMLX's plot collector saved in DIR/training_plot_points.json (metric names in snake case,
"Train: Moving Average Loss" → train_moving_average_loss, "Mean Loss on test" →
mean_loss_on_test) and the hyperparameters of DIR's latest checkpoint as params. DIR is
only read.

Flags:
`)
		fs.PrintDefaults()
	}
	rest, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(rest) != 1 {
		return usagef("give one GoMLX checkpoint folder: aelab import gomlx [flags] DIR")
	}
	store, err := openStore(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	res, err := gomlxhook.Import(store, rest[0], gomlxhook.ImportOptions{Experiment: *experiment, Name: *name})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %s as run %s: %d metric values at %d steps, %d params", rest[0], res.RunID[:8], res.Points, res.Steps, res.Params)
	if res.From != "" {
		fmt.Fprintf(stdout, " (from %s)", res.From)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(stdout, "; %d points skipped (a step or value that is not a finite number)", res.Skipped)
	}
	fmt.Fprintln(stdout)
	return nil
}
