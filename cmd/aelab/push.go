package main

// `aelab runs push` and `aelab runs pull`: copy runs between the local store and another
// (usually a shared PostgreSQL one), with tracker.Copy.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aelab/aelab/tracker"
)

func runsPush(args []string, stdout, stderr io.Writer) error {
	return runsCopy("push", "to", args, stdout, stderr)
}

func runsPull(args []string, stdout, stderr io.Writer) error {
	return runsCopy("pull", "from", args, stdout, stderr)
}

// runsCopy copies runs between the --db store and the one --to (push) or --from (pull) names.
func runsCopy(verb, dir string, args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs "+verb, "runs "+verb+" --"+dir+" URL|PATH [--where Q] [--all] [--running] [--db PATH]", stderr)
	other := ""
	fs.Var(locationValue{&other}, dir, "the other store: a postgres:// URL or a SQLite file `path`")
	otherArtifacts := fs.String(dir+"-artifacts", "", "the other store's artifact `folder` (default: $AELAB_ARTIFACTS, or beside a SQLite store)")
	where := fs.String("where", "", "copy only the runs this filter `query` selects")
	all := fs.Bool("all", false, "copy deleted runs too")
	running := fs.Bool("running", false, "copy RUNNING runs with their status (a later "+verb+" brings their end)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if other == "" {
		return usagef("--%s: which store? (a postgres:// URL or a SQLite file path)", dir)
	}
	if _, _, err := tracker.ParseFilter(*where); err != nil {
		return runsQueryErr(err, "--where", *where, stderr)
	}
	local, remote := tracker.Options{}, tracker.Options{ArtifactRoot: *otherArtifacts}
	srcLoc, srcOpt, dstLoc, dstOpt := *db, local, other, remote
	if verb == "pull" {
		srcLoc, srcOpt, dstLoc, dstOpt = other, remote, *db, local
	}
	srcOpt.ReadOnly = true
	src, err := storeOrUsage(tracker.OpenWith(srcLoc, srcOpt))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storeOrUsage(tracker.OpenWith(dstLoc, dstOpt))
	if err != nil {
		return err
	}
	defer dst.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "%s: %s → %s\n", verb, src.Path(), dst.Path())
	st, err := tracker.Copy(ctx, dst, src, tracker.CopyOptions{Filter: *where, IncludeDeleted: *all, Running: *running,
		Progress: func(st tracker.CopyStats) {
			fmt.Fprintf(stdout, "  %d of %d runs: %d copied, %d updated, %d already there\n",
				st.Copied+st.Updated+st.Unchanged, st.Selected-st.Running, st.Copied, st.Updated, st.Unchanged)
		}})
	fmt.Fprintf(stdout, "%s: %d runs copied, %d updated, %d already there; %d metric rows, %d artifact files (into %s)\n",
		verb, st.Copied, st.Updated, st.Unchanged, st.Metrics, st.Files, dst.ArtifactRoot())
	if st.Running > 0 {
		fmt.Fprintf(stdout, "  %d RUNNING runs left out: --running copies them with their status\n", st.Running)
	}
	for _, f := range st.MissingFiles {
		fmt.Fprintf(stdout, "  note: artifact %s is missing from the source store's folder; recorded without its files\n", f)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; what was copied stays, and %s again resumes", verb)
		}
		return err
	}
	return nil
}
