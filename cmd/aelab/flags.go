package main

import (
	"errors"
	"flag"
	"io"
)

// errHelp is returned by parseFlags for -h: the usage was printed, nothing else to do.
var errHelp = flag.ErrHelp

// newFlagSet returns a FlagSet that reports its errors on stderr instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("aelab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, letting flags and positional arguments come in any order
// (`aelab runs show ID --json`), and returns the positional ones. A bad flag is a usageError.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
