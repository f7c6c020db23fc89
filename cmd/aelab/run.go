package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aelab/aelab/track"
)

// exitCodeError makes aelab exit with a program's own exit status, saying nothing more.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// runRun is `aelab run [flags] -- COMMAND ARGS…`: any program as a tracked run.
func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	db := storeFlag(fs)
	name := fs.String("name", "", "run `name` (default: the program's name)")
	experiment := fs.String("experiment", "Default", "`experiment` the run belongs to")
	tags := tagFlag(fs, "tag", "set a tag on the run: `key=value` (repeatable)")
	params := tagFlag(fs, "param", "record a parameter of the run: `key=value` (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aelab run [flags] -- COMMAND [ARGS…]

Runs COMMAND as a tracked run of the store: records the command, its environment (without
variables whose names say PASSWORD, TOKEN, SECRET, … and without database passwords) and how
it ended (FINISHED on exit status 0, FAILED with the last lines of its stderr, KILLED on
SIGINT or SIGTERM, which are passed on to it). Lines of its stdout made of name=value pairs
are logged as metrics ("epoch=3 loss=0.25 val_loss=0.31": loss and val_loss at step 3; step=N
sets the step); its output is passed through unchanged. The program finds its run in
AELAB_RUN_ID and the store in AELAB_DB (a Go program's track.Start logs into that run).
aelab exits with the program's exit status.

Flags:
`)
		fs.PrintDefaults()
	}
	// Parse, not parseFlags: the flags end at the command, whose own flags are its business.
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return nil
	}
	if err != nil {
		return usagef("%v (see -h)", err)
	}
	command := fs.Args()
	if len(command) == 0 {
		return usagef("missing the command to run: aelab run [flags] -- COMMAND [ARGS…]")
	}
	if *name == "" {
		*name = command[0][strings.LastIndexByte(command[0], '/')+1:]
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			cancel(track.SignalError{Signal: sig})
		case <-ctx.Done():
		}
	}()

	res, err := track.RunCommand(ctx, track.Command{
		Args:    command,
		Options: track.Options{DB: db.location, Experiment: *experiment, Name: *name, Params: params.m, Tags: tags.m, Stderr: stderr},
		Stdin:   os.Stdin, Stdout: stdout, Stderr: stderr, Env: db.environ(),
	})
	if err != nil {
		if res == nil { // the program did not start: nothing was recorded
			return err
		}
		return fmt.Errorf("%v (run %s recorded FAILED)", err, res.RunID[:8])
	}
	if res.StoreErr != nil {
		fmt.Fprintf(stderr, "aelab run: %v\n", res.StoreErr)
	}
	if res.BadLines > 0 {
		fmt.Fprintf(stderr, "aelab run: %d metrics lines not logged (a name outside [A-Za-z0-9_.-/] or a value that is not a finite number)\n", res.BadLines)
	}
	fmt.Fprintf(stderr, "aelab run: run %s %s (exit status %d, %d metrics lines)\n", res.RunID[:8], res.Status, res.ExitCode, res.MetricLines)
	if res.ExitCode != 0 {
		return exitCodeError{res.ExitCode}
	}
	return nil
}

// kvFlag collects repeated key=value flags.
type kvFlag struct{ m map[string]string }

func (f *kvFlag) String() string { return "" }

func (f *kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", s)
	}
	f.m[k] = v
	return nil
}

// tagFlag defines a repeatable key=value flag.
func tagFlag(fs *flag.FlagSet, name, usage string) *kvFlag {
	f := &kvFlag{m: map[string]string{}}
	fs.Var(f, name, usage)
	return f
}
