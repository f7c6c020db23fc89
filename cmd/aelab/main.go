package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aelab/aelab/internal/termtext"
)

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
	if len(args) == 0 || isHelpArg(args[0]) {
		if len(args) <= 1 {
			printHelp(stdout)
			return 0
		}
		args = args[1:]
		c := findCommand(commands, args[0])
		if c == nil {
			fmt.Fprintf(stderr, "aelab: unknown command %q (run `aelab help`)\n", args[0])
			return 2
		}
		return exitStatus(stderr, c.name, printUsage(c.name, c, args[1:], stdout))
	}
	c := findCommand(commands, args[0])
	if c == nil {
		fmt.Fprintf(stderr, "aelab: unknown command %q (run `aelab help`)\n", args[0])
		return 2
	}
	return exitStatus(stderr, c.name, c.call(c.name, args[1:], stdout, stderr))
}

// escapeLines escapes for a terminal each line of an error, which may hold text from a store
// or a command line (termtext.Escape), and keeps the lines.
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = termtext.Escape(l)
	}
	return strings.Join(lines, "\n")
}

// exitStatus prints the error of command name, if any, as one line and returns the exit
// status it means.
func exitStatus(stderr io.Writer, name string, err error) int {
	if err == nil {
		return 0
	}
	var ec exitCodeError
	if errors.As(err, &ec) { // a program's own exit status (aelab run): already said
		return ec.code
	}
	fmt.Fprintf(stderr, "aelab %s: %s\n", name, escapeLines(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
