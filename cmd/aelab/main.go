package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

// command is one `aelab` subcommand. Each lives in its own file and registers itself in init.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// usageError marks a mistake in the command line (bad flag, unknown model, bad path):
// main prints it on one line and exits with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// runMain runs one command and returns the process exit status:
// 0 on success, 2 on a usage error, 1 on any other failure.
func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "aelab: unknown command %q (run `aelab help`)\n", args[0])
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "aelab %s: %v\n", c.name, err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "aelab — an autoencoder lab: train, track, benchmark and compare autoencoders.")
	fmt.Fprintln(w, "\nUsage: aelab <command> [flags]   (aelab <command> -h for its flags)\n\nCommands:")
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}
