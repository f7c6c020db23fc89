package main

// The command table: every `aelab` command and subcommand, in the order help lists them. It is
// the one source of dispatch (runMain), of `aelab help`, `aelab help COMMAND [SUBCOMMAND]`,
// of each group's list of subcommands, and of the usage tests.
//
// Adding a command is one entry here naming its run function; adding a subcommand is one entry
// in its group's subs. A run function gets the arguments after its name and returns usagef(…)
// for command-line mistakes; for -h it prints its usage to stderr and returns nil (parseFlags
// and helpOr do both).

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// command is one `aelab` command, or a group of subcommands (runs, sweep, db, experiments).
type command struct {
	name    string
	summary string
	// run runs a command that is not a group.
	run func(args []string, stdout, stderr io.Writer) error
	// subs are a group's subcommands.
	subs []*command
	// byDefault is the subcommand a group runs when no subcommand is named, e.g.
	// `aelab experiments --json` is `aelab experiments list --json`.
	byDefault string
	// more prints what a group's help says after its subcommands (query syntax, spec format).
	more func(io.Writer)
}

// commands is the command table.
var commands = []*command{
	{name: "train", summary: "train a model (vanilla, deep, denoise, …) and log the run", run: runTrain},
	{name: "summary", summary: "print a model's Keras-style summary", run: runSummary},
	{name: "bench", summary: "time training: seconds per epoch, steps/s, compile time, peak memory", run: runBench},
	{name: "runs", summary: "the run history", more: printRunsQueries, subs: []*command{
		{name: "list", summary: "list runs as a table (--where, --order-by, --limit, --json, --csv, --all)", run: runsList},
		{name: "show", summary: "everything about one run: config, params, environment, metrics, history, artifacts", run: runsShow},
		{name: "compare", summary: "compare runs side by side: params, final metrics, loss per epoch", run: runsCompare},
		{name: "export", summary: "write runs as CSV or JSON (--csv|--json, --where, --out FILE)", run: runsExport},
		{name: "tag", summary: "set tags on a run: aelab runs tag ID key=value…", run: runsTag},
		{name: "delete", summary: "hide a run from lists (soft delete; --all shows it again)", run: runsDelete},
		{name: "reproduce", summary: "train a run's stored config again and print the metric deltas", run: runsReproduce},
		{name: "push", summary: "copy runs to another store (--to URL): histories, params, tags, artifact files", run: runsPush},
		{name: "pull", summary: "copy runs from another store (--from URL) into this one", run: runsPull},
	}},
	{name: "experiments", summary: "the store's experiments", byDefault: "list", subs: []*command{
		{name: "list", summary: "list experiments and their run counts (--json)", run: runExperiments},
	}},
	{name: "report", summary: "compare runs: HTML and Markdown report with figures and the course-claims audit", run: runReport},
	{name: "course", summary: "reproduce the course: train vanilla, deep and denoise (--beyond: and three more), compare, report", run: runCourse},
	{name: "sweep", summary: "hyperparameter sweeps", more: printSweepSpec, subs: []*command{
		{name: "run", summary: "run a sweep on this machine with local workers: aelab sweep run SPEC [--workers N]", run: sweepRun},
		{name: "create", summary: "record a sweep and queue its trials for `aelab worker`s: aelab sweep create SPEC", run: sweepCreate},
		{name: "list", summary: "list the sweeps of the store", run: sweepList},
		{name: "status", summary: "where each trial of a sweep stands: aelab sweep status ID", run: sweepStatus},
		{name: "cancel", summary: "cancel a sweep's queued and running trials: aelab sweep cancel ID", run: sweepCancel},
		{name: "report", summary: "write a sweep's report (HTML, Markdown, figures): aelab sweep report ID [--out DIR]", run: sweepReport},
	}},
	{name: "run", summary: "run any program as a tracked run: aelab run [--name N] -- COMMAND ARGS… (name=value stdout lines are metrics)", run: runRun},
	{name: "import", summary: "training history from elsewhere as runs", subs: []*command{
		{name: "gomlx", summary: "a GoMLX checkpoint folder's training_plot_points.json and params: aelab import gomlx DIR", run: importGoMLX},
	}},
	{name: "worker", summary: "train queued sweep trials from the store (run one on every machine that reaches it)", run: runWorker},
	{name: "ui", summary: "browse, chart and compare the runs in a web browser (loopback by default)", run: runUI},
	{name: "db", summary: "a PostgreSQL store server of your own and store upgrades", subs: []*command{
		{name: "start", summary: "start the server in --dir, making it the first time", run: dbStartCommand},
		{name: "stop", summary: "stop the server in --dir", run: dbStopCommand},
		{name: "status", summary: "whether the server in --dir runs, its port and its AELAB_DB", run: dbStatusCommand},
		{name: "migrate", summary: "upgrade the schema of the store --db names", run: dbMigrateCommand},
		{name: "backup", summary: "copy a SQLite store safely, even while in use: aelab db backup --to FILE", run: dbBackupCommand},
	}},
}

// findCommand returns the command of cmds called name, or nil.
func findCommand(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// isHelpArg reports whether arg asks for help.
func isHelpArg(arg string) bool { return arg == "help" || arg == "-h" || arg == "--help" }

// subNames is a group's subcommands joined by sep, in table order.
func (c *command) subNames(sep string) string {
	names := make([]string, len(c.subs))
	for i, s := range c.subs {
		names[i] = s.name
	}
	return strings.Join(names, sep)
}

// call runs c with the arguments after its name; path is c's full name ("runs list").
// A group dispatches to the subcommand its first argument names, and errors name that
// subcommand.
func (c *command) call(path string, args []string, stdout, stderr io.Writer) error {
	if c.subs == nil {
		return c.run(args, stdout, stderr)
	}
	if len(args) > 0 && isHelpArg(args[0]) {
		return printUsage(path, c, args[1:], stdout)
	}
	if c.byDefault != "" && (len(args) == 0 || strings.HasPrefix(args[0], "-")) {
		args = append([]string{c.byDefault}, args...)
	}
	if len(args) == 0 {
		c.printGroupHelp(path, stderr)
		return usagef("missing subcommand (aelab %s %s)", path, c.subNames("|"))
	}
	sub := findCommand(c.subs, args[0])
	if sub == nil {
		return usagef("unknown subcommand %q (run `aelab %s help`)", args[0], path)
	}
	if err := sub.call(path+" "+sub.name, args[1:], stdout, stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return usageError{fmt.Errorf("%s: %w", sub.name, ue.err)}
		}
		return fmt.Errorf("%s: %w", sub.name, err)
	}
	return nil
}

// printUsage prints to w the usage of the subcommand of c that names picks out
// (`aelab help runs list`, `aelab runs help list`), or c's own: a group's list of
// subcommands, a command's flags (what its -h prints).
func printUsage(path string, c *command, names []string, w io.Writer) error {
	for _, n := range names {
		sub := findCommand(c.subs, n)
		if sub == nil {
			if c.subs == nil {
				return usagef("%s has no subcommands (run `aelab help %s`)", path, path)
			}
			return usagef("unknown subcommand %q (run `aelab %s help`)", n, path)
		}
		c, path = sub, path+" "+n
	}
	if c.subs != nil {
		c.printGroupHelp(path, w)
		return nil
	}
	return helpOr(c.run([]string{"-h"}, w, w))
}

// printGroupHelp prints a group's usage: its subcommands and what follows them.
func (c *command) printGroupHelp(path string, w io.Writer) {
	fmt.Fprintf(w, "Usage: aelab %s <subcommand> [flags]   (aelab help %s <subcommand> for its flags)\n\nSubcommands:\n", path, path)
	width := 0
	for _, s := range c.subs {
		width = max(width, len(s.name))
	}
	for _, s := range c.subs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
	}
	if c.byDefault != "" {
		fmt.Fprintf(w, "\nWithout a subcommand: aelab %s %s.\n", path, c.byDefault)
	}
	if c.more != nil {
		fmt.Fprintln(w)
		c.more(w)
	}
}

// printHelp prints `aelab help`: every command with its summary, a group's with its
// subcommands.
func printHelp(w io.Writer) {
	fmt.Fprintln(w, "aelab — an autoencoder lab: train, track, benchmark and compare autoencoders.")
	fmt.Fprintln(w, "\nUsage: aelab <command> [flags]   (aelab help <command> for its flags or subcommands)\n\nCommands:")
	for _, c := range commands {
		summary := c.summary
		if c.subs != nil {
			summary += ": " + c.subNames(", ")
		}
		fmt.Fprintf(w, "  %-12s %s\n", c.name, summary)
	}
}
