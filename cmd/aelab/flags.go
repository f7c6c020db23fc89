package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/aelab/aelab/tracker"
)

// storeArg is the store a command names with --db and --artifacts.
type storeArg struct {
	location  string // a SQLite file path or a postgres:// URL
	artifacts string // the folder its artifacts live under; "" for $AELAB_ARTIFACTS or the default
}

// options are the tracker.Options that open the store with its artifact folder.
func (a storeArg) options() tracker.Options { return tracker.Options{ArtifactRoot: a.artifacts} }

// environ is what a program aelab runs needs in its environment to find the artifact folder
// of --artifacts ($AELAB_ARTIFACTS, absolute), or nil.
func (a storeArg) environ() []string {
	if a.artifacts == "" {
		return nil
	}
	dir, err := filepath.Abs(a.artifacts)
	if err != nil {
		dir = a.artifacts
	}
	return []string{"AELAB_ARTIFACTS=" + dir}
}

// storeFlag defines --db, the experiment store every command that tracks or reads runs uses
// (printed without its password), and --artifacts, the folder its artifacts live under (the
// store is opened with it: tracker.Options.ArtifactRoot).
func storeFlag(fs *flag.FlagSet) *storeArg {
	a := &storeArg{location: tracker.DefaultPath()}
	fs.Var(locationValue{&a.location}, "db", "experiment store: a SQLite file `path` or a postgres:// URL ($AELAB_DB)")
	fs.StringVar(&a.artifacts, "artifacts", "", "`folder` the store's checkpoints live under, the same on every machine that mounts it ($AELAB_ARTIFACTS; default: beside a SQLite store)")
	return a
}

// progressFlag defines --progress, GoMLX's progress bar while training.
func progressFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("progress", true, "show GoMLX's progress bar")
}

// errHelp is returned by parseFlags for -h: the usage was printed, nothing else to do.
var errHelp = errors.New("help shown")

// newFlagSet returns a FlagSet for a command that reports to stderr instead of exiting; its
// usage (-h, `aelab help NAME`) is "Usage: aelab NAME [flags]" and the flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("aelab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: aelab %s [flags]\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses flags that may come before, between or after the positional arguments
// (`aelab runs show ID --json`) and returns the positional ones. A bad flag is one usageError
// line (no usage dump); -h prints the usage and returns errHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	out := fs.Output()
	fs.SetOutput(io.Discard)
	defer fs.SetOutput(out)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				fs.Usage()
				return nil, errHelp
			}
			return nil, usagef("%v (see -h)", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0]) // Parse stopped at a positional argument
		args = args[1:]
	}
}

// parseFlagsOnly parses the flags of a command that takes no positional arguments.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	return nil
}

// helpOr turns errHelp into success.
func helpOr(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}
