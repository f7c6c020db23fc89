package main

// `aelab sweep …`: hyperparameter sweeps (package sweeps), run here or queued for workers.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/sweeps"
	"github.com/aelab/aelab/sweeps/trial"
	"github.com/aelab/aelab/tracker"
)

// printSweepSpec prints what `aelab sweep help` says after the subcommands: a spec's format
// and the workers.
func printSweepSpec(w io.Writer) {
	fmt.Fprintln(w, "A spec is a YAML file:\n"+specExample)
	fmt.Fprintln(w, "A sweep over any program names command: [python3, train.py] instead of model: each trial runs it with")
	fmt.Fprintln(w, "the base settings and its parameters as --name=value arguments; metric: is a name=value its stdout reports")
	fmt.Fprintln(w, "(goal: maximize when higher is better), as `aelab run` tracks it.")
	fmt.Fprintln(w, "Workers on other machines: aelab worker --db postgres://… [--queue cpu|gpu] [--concurrency N]")
}

// specExample is the spec shown by `aelab sweep help`.
const specExample = `  name: denoise-grid
  model: denoise                      # the base model; its defaults start every trial
  base: {epochs: 2, subset: 6000}     # settings of every trial (the names of aelab train's flags)
  parameters:
    filters: [8, 16, 32]              # a grid axis (random search: a choice)
    noise: [0.3, 0.5, 0.7]
    # lr: {log_uniform: [1e-4, 1e-2]} # random search: uniform, log_uniform, int_range
  seeds: [1, 2]                       # every configuration once per seed
  # method: random                    # with trials: N
  metric: val_bce                     # minimised or maximised as the metric schema says
  early_stopping: {rule: median}      # or {rule: asha, reduction_factor: 3}
  # max_parallel: 4   queue: cpu   max_attempts: 3   trial_timeout: 1h`

// openSpecStore reads the one SPEC argument, checks its trials (more than MaxGridTrials only
// with allowLarge, never more than MaxTrials), then opens the store of --db for writing: a bad
// spec is a usage error, found before a store is created.
func openSpecStore(rest []string, allowLarge bool, db storeArg) (*sweeps.Spec, *tracker.Store, error) {
	if len(rest) != 1 {
		return nil, nil, usagef("expected one SPEC file, got %d arguments", len(rest))
	}
	spec, err := sweeps.ReadSpec(rest[0])
	if err != nil {
		var se *sweeps.SpecError
		if errors.As(err, &se) || errors.Is(err, os.ErrNotExist) {
			return nil, nil, usageError{err}
		}
		return nil, nil, err
	}
	if err := spec.CheckTrials(allowLarge); err != nil { // trials made one at a time, none kept
		return nil, nil, usageError{err}
	}
	store, err := openStore(db)
	return spec, store, err
}

// signalContext is cancelled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func sweepRun(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("sweep run", "sweep run SPEC [--workers N] [--allow-large] [--report DIR] [--db PATH]", stderr)
	workers := fs.Int("workers", 1, "trials trained at once on this machine")
	allowLarge := fs.Bool("allow-large", false, fmt.Sprintf("allow more than %d trials (at most %s)", sweeps.MaxGridTrials, aelib.Thousands(sweeps.MaxTrials)))
	reportDir := fs.String("report", "", "write the sweep report to this folder when done")
	progress := fs.Bool("progress", false, "show GoMLX's progress bar (best with --workers 1)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if *workers < 1 || *workers > 64 {
		return usagef("--workers must be 1 to 64, got %d", *workers)
	}
	if *reportDir != "" {
		if err := checkWritableDir(*reportDir); err != nil {
			return usagef("--report: %v", err)
		}
	}
	spec, store, err := openSpecStore(rest, *allowLarge, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, stop := signalContext()
	defer stop()
	sw, err := sweeps.RunLocal(ctx, store, spec, sweeps.LocalOptions{Workers: *workers, AllowLarge: *allowLarge, Log: stdout, Progress: *progress})
	if err != nil {
		return err
	}
	if err := printSweepOutcome(store, sw.ID, stdout); err != nil {
		return err
	}
	if *reportDir != "" {
		return writeSweepReport(store, sw.ID, *reportDir, nil, stdout)
	}
	fmt.Fprintf(stdout, "report: aelab sweep report %s\n", sw.ShortID())
	return nil
}

// printSweepOutcome prints the trials by state and the best trial.
func printSweepOutcome(store *tracker.Store, sweepID string, stdout io.Writer) error {
	rep, err := reports.BuildSweep(store, sweepID, reports.SweepOptions{NoFigures: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep %s: %s\n", rep.Sweep.ShortID(), rep.Counts())
	if b := rep.Best; b != nil {
		fmt.Fprintf(stdout, "best: trial %d (%s): %s %.5g, run %s\n", b.Index, b.Describe(rep.Sweep.Parameters), rep.Sweep.Metric, b.Value, b.Run.ID)
	}
	return nil
}

func sweepCreate(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("sweep create", "sweep create SPEC [--allow-large] [--db URL]", stderr)
	allowLarge := fs.Bool("allow-large", false, fmt.Sprintf("allow more than %d trials (at most %s)", sweeps.MaxGridTrials, aelib.Thousands(sweeps.MaxTrials)))
	rest, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	spec, store, err := openSpecStore(rest, *allowLarge, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	sw, err := sweeps.Create(context.Background(), store, spec, sweeps.Options{AllowLarge: *allowLarge, Progress: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep %s (%s): %d trials queued on queue %s\n", sw.ID, sw.Name, len(sw.Trials), spec.Queue)
	fmt.Fprintf(stdout, "start workers on any machine that reaches the store: aelab worker --queue %s --db %s\n", spec.Queue, store.Path())
	return nil
}

// sweepRow is one sweep of `aelab sweep list --json`.
type sweepRow struct {
	*tracker.Sweep
	Counts trial.Counts `json:"counts"`
	Best   *float64     `json:"best,omitempty"`
}

func sweepList(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("sweep list", "sweep list [--json] [--db PATH]", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlagsOnly(fs, args); err != nil {
		return helpOr(err)
	}
	store, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.Sweeps()
	if err != nil {
		return err
	}
	var rows []sweepRow
	for _, sw := range list {
		rep, err := reports.BuildSweep(store, sw.ID, reports.SweepOptions{NoFigures: true})
		if err != nil {
			return err
		}
		row := sweepRow{Sweep: sw, Counts: rep.Counts()}
		if rep.Best != nil {
			row.Best = &rep.Best.Value
		}
		rows = append(rows, row)
	}
	if *asJSON {
		return writeJSON(stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(stdout, "no sweeps in %s\n", store.Path())
		return nil
	}
	t := newRunsTable(stdout, 0)
	fmt.Fprintln(t, "ID\tNAME\tMODEL\tTRIALS\tSTATES\tMETRIC\tBEST\tCREATED")
	for _, r := range rows {
		best := "-"
		if r.Best != nil {
			best = experiments.FormatMetric(r.Metric, *r.Best)
		}
		states := r.Counts.String()
		if !r.Cancelled.IsZero() {
			states += " (cancelled)"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", termArgs(r.ShortID(), r.Name, r.Model, len(r.Trials), states, r.Metric, best,
			r.Created.Local().Format("2006-01-02 15:04"))...)
	}
	return t.Flush()
}

// openSweepArg parses the flags of a subcommand that takes one sweep ID and opens the store of
// --db: read-only unless write is set. Errors go through helpOr.
func openSweepArg(fs *flag.FlagSet, db *storeArg, args []string, write bool) (*tracker.Store, string, error) {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(rest) != 1 {
		return nil, "", usagef("expected one sweep ID, got %d arguments", len(rest))
	}
	if !write {
		store, err := openReadOnly(*db)
		return store, rest[0], err
	}
	store, err := openExisting(*db)
	return store, rest[0], err
}

// noSweepUsage makes an unknown sweep id a usage error.
func noSweepUsage(err error) error {
	if errors.Is(err, tracker.ErrNoSweep) {
		return usageError{err}
	}
	return err
}

func sweepStatus(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("sweep status", "sweep status ID [--json] [--db PATH]", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	store, id, err := openSweepArg(fs, db, args, false)
	if err != nil {
		return helpOr(err)
	}
	defer store.Close()
	st, err := sweeps.Status(context.Background(), store, id)
	if err != nil {
		return noSweepUsage(err)
	}
	if *asJSON {
		return writeStatusJSON(stdout, st)
	}
	sw := st.Sweep
	fmt.Fprintf(stdout, "sweep %s (%s): model %s, %d trials: %s\n", termArgs(sw.ID, sw.Name, sw.Model, len(st.Trials), st.Counts.String())...)
	if !sw.Cancelled.IsZero() {
		fmt.Fprintf(stdout, "cancelled %s\n", sw.Cancelled.Local().Format("2006-01-02 15:04:05"))
	}
	t := newRunsTable(stdout, 0)
	fmt.Fprintf(t, "TRIAL\tPARAMS\tSTATE\tATTEMPTS\tRUN\t%s\tWORKER\tNOTE\n", termArgs(strings.ToUpper(sw.Metric))...)
	for _, tr := range st.Trials {
		runID, value, worker, note := "-", "-", "-", ""
		if r := tr.Run(); r != nil {
			runID, worker, note = r.ShortID(), r.Tags[tracker.TagSweepWorker], r.Error
			if v, ok := r.Metrics[sw.Metric]; ok {
				value = experiments.FormatMetric(sw.Metric, v)
			}
			if s := r.Tags[tracker.TagSweepStoppedEarly]; s != "" {
				note = s
			}
		}
		if j := tr.Job; j != nil && len(j.Errors) > 0 && note == "" {
			note = j.Errors[len(j.Errors)-1].Error
		}
		fmt.Fprintf(t, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", termArgs(tr.Trial.Index, tr.Trial.Describe(sw.Parameters), tr.State, len(tr.Runs), runID, value, worker, note)...)
	}
	return t.Flush()
}

// writeStatusJSON prints a sweep's status as JSON: the sweep and, per trial, its state, job
// and run ids.
func writeStatusJSON(w io.Writer, st *sweeps.SweepStatus) error {
	type trialJSON struct {
		Index  int               `json:"index"`
		Params map[string]string `json:"params"`
		Seed   uint64            `json:"seed,omitempty"`
		State  trial.State       `json:"state"`
		JobID  int64             `json:"job_id,omitempty"`
		Runs   []string          `json:"runs"`
		Value  *float64          `json:"value,omitempty"`
	}
	out := struct {
		Sweep  *tracker.Sweep `json:"sweep"`
		Counts trial.Counts   `json:"counts"`
		Trials []trialJSON    `json:"trials"`
	}{Sweep: st.Sweep, Counts: st.Counts}
	for _, tr := range st.Trials {
		t := trialJSON{Index: tr.Trial.Index, Params: tr.Trial.Params, Seed: tr.Trial.Seed, State: tr.State, Runs: []string{}}
		if tr.Job != nil {
			t.JobID = tr.Job.ID
		}
		for _, r := range tr.Runs {
			t.Runs = append(t.Runs, r.ID)
		}
		if r := tr.Run(); r != nil {
			if v, ok := r.Metrics[st.Sweep.Metric]; ok && !math.IsNaN(v) {
				t.Value = &v
			}
		}
		out.Trials = append(out.Trials, t)
	}
	return writeJSON(w, out)
}

func sweepCancel(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("sweep cancel", "sweep cancel ID [--db PATH]", stderr)
	store, id, err := openSweepArg(fs, db, args, true)
	if err != nil {
		return helpOr(err)
	}
	defer store.Close()
	c, err := sweeps.Cancel(context.Background(), store, id)
	if err != nil {
		return noSweepUsage(err)
	}
	fmt.Fprintf(stdout, "sweep %s %s\n", id, c)
	return nil
}

func sweepReport(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("sweep report", "sweep report ID [--out DIR] [--format html,md] [--db PATH]", stderr)
	out := fs.String("out", "", "folder to write the report to (default build/sweeps/ID)")
	format := fs.String("format", "html,md", "comma-separated formats: html (index.html), md (report.md)")
	store, id, err := openSweepArg(fs, db, args, false)
	if err != nil {
		return helpOr(err)
	}
	defer store.Close()
	formats, err := reports.ParseFormats(*format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("build", "sweeps", id)
	}
	if err := checkWritableDir(dir); err != nil {
		return usagef("--out: %v", err)
	}
	return writeSweepReport(store, id, dir, formats, stdout)
}

// writeSweepReport builds a sweep's report and writes it to dir, saying where.
func writeSweepReport(store *tracker.Store, id, dir string, formats []string, stdout io.Writer) error {
	rep, err := reports.BuildSweep(store, id, reports.SweepOptions{})
	if err != nil {
		return noSweepUsage(err)
	}
	written, err := rep.WriteDir(dir, formats...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep report: %d trials (%s), %d figures\n", len(rep.Trials), rep.Counts(), len(rep.Figures))
	for _, p := range written {
		if strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".md") {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "  note: %s\n", n)
	}
	return nil
}
