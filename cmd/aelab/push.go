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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

func runsPush(args []string, stdout, stderr io.Writer) error {
	return runsCopy("push", "to", args, stdout, stderr)
}

func runsPull(args []string, stdout, stderr io.Writer) error {
	return runsCopy("pull", "from", args, stdout, stderr)
}

// runsCopy copies runs between the --db store and the one --to (push) or --from (pull) names.
func runsCopy(verb, dir string, args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs "+verb, "runs "+verb+" --"+dir+" URL|PATH [--where Q] [--all] [--running] [--overwrite] [--dry-run] [--db PATH]", stderr)
	other := ""
	fs.Var(locationValue{&other}, dir, "the other store: a postgres:// URL or a SQLite file `path`")
	otherArtifacts := fs.String(dir+"-artifacts", "", "the other store's artifact `folder` (default: $AELAB_ARTIFACTS, or beside a SQLite store)")
	where := fs.String("where", "", "copy only the runs this filter `query` selects")
	all := fs.Bool("all", false, "copy deleted runs too")
	running := fs.Bool("running", false, "copy RUNNING runs with their status (a later "+verb+" brings their end)")
	overwrite := fs.Bool("overwrite", false, "replace runs edited in the target since the last copy (conflicts) with the source's")
	dryRun := fs.Bool("dry-run", false, "say what would be copied, updated and in conflict; write nothing")
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
	if _, _, err := query.ParseFilter(*where); err != nil {
		return runsQueryErr(err, "--where", *where, stderr)
	}
	local, remote := db.options(), tracker.Options{ArtifactRoot: *otherArtifacts}
	srcLoc, srcOpt, dstLoc, dstOpt := db.location, local, other, remote
	if verb == "pull" {
		srcLoc, srcOpt, dstLoc, dstOpt = other, remote, db.location, local
	}
	srcOpt.ReadOnly, dstOpt.ReadOnly = true, *dryRun
	src, err := storeOrUsage(tracker.OpenWith(srcLoc, srcOpt))
	if err != nil {
		return err
	}
	defer src.Close()
	title := verb
	if *dryRun {
		title = verb + " --dry-run"
	}
	dst, err := tracker.OpenWith(dstLoc, dstOpt)
	dstName := tracker.RedactURL(dstLoc)
	if *dryRun && errors.Is(err, tracker.ErrNoStore) {
		// Nothing there yet: every run would be new. An empty store of our own stands in.
		tmp, terr := os.MkdirTemp("", "aelab-dry-run-")
		if terr != nil {
			return fmt.Errorf("--dry-run: %w", terr)
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintf(stdout, "%s: %s holds no store yet: every run would be new\n", title, dstName)
		dst, err = tracker.OpenWith(filepath.Join(tmp, "aelab.db"), tracker.Options{ArtifactRoot: tmp})
	} else if err == nil {
		dstName = dst.Path()
	}
	if dst, err = storeOrUsage(dst, err); err != nil {
		return err
	}
	defer dst.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "%s: %s → %s\n", title, src.Path(), dstName)
	st, err := tracker.Copy(ctx, dst, src, tracker.CopyOptions{Filter: *where, IncludeDeleted: *all, Running: *running,
		Overwrite: *overwrite, DryRun: *dryRun,
		Progress: func(st tracker.CopyStats) {
			left := 0 // conflicts left as they are
			for _, c := range st.Conflicts {
				if !c.Overwritten {
					left++
				}
			}
			fmt.Fprintf(stdout, "  %d of %d runs: %d copied, %d updated, %d already there, %d in conflict\n",
				st.Copied+st.Updated+st.Unchanged+left+len(st.KeptDeleted), st.Selected-st.Running-len(st.Refused),
				st.Copied, st.Updated, st.Unchanged, left)
		}})
	if *dryRun {
		fmt.Fprintf(stdout, "%s: would copy %d runs, update %d, %d already there; %d metric rows; nothing written\n",
			title, st.Copied, st.Updated, st.Unchanged, st.Metrics)
	} else {
		fmt.Fprintf(stdout, "%s: %d runs copied, %d updated, %d already there; %d metric rows, %d artifact files (into %s)\n",
			verb, st.Copied, st.Updated, st.Unchanged, st.Metrics, st.Files, dst.ArtifactRoot())
	}
	printCopyNotes(stdout, verb, st, *dryRun)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; what was copied stays, and %s again resumes", verb)
		}
		return err
	}
	return nil
}

// maxKeptDeletedLines bounds the lines about runs that stay deleted in the target: every
// copy finds them again, and they are no news after the first.
const maxKeptDeletedLines = 10

// printCopyNotes prints a line for each run or artifact a copy left out, each conflict and each
// tag the target kept. Ids, names, tags and paths come from a store and may hold anything:
// they are printed quoted, control characters escaped.
func printCopyNotes(w io.Writer, verb string, st tracker.CopyStats, dry bool) {
	q := strconv.QuoteToASCII
	switch n := len(st.Conflicts); {
	case n == 1:
		fmt.Fprintf(w, "%s: 1 conflict: a run edited in the target since the last copy (or never copied) differs from the source's\n", verb)
	case n > 1:
		fmt.Fprintf(w, "%s: %d conflicts: runs edited in the target since the last copy (or never copied) differ from the source's\n", verb, n)
	}
	for _, c := range st.Conflicts {
		what := "left as it is (--overwrite replaces it with the source's)"
		switch {
		case c.Overwritten && dry:
			what = "would be replaced with the source's (--overwrite)"
		case c.Overwritten:
			what = "replaced with the source's (--overwrite)"
		}
		fmt.Fprintf(w, "  conflict: run %s %s differs in %s; %s\n", c.RunID, q(c.Name), strings.Join(c.Fields, ", "), what)
	}
	if st.Running > 0 {
		fmt.Fprintf(w, "  %d RUNNING runs left out: --running copies them with their status\n", st.Running)
	}
	for i, id := range st.KeptDeleted {
		if i == maxKeptDeletedLines {
			fmt.Fprintf(w, "  kept deleted: %d more runs deleted in the target after they were copied there\n", len(st.KeptDeleted)-i)
			break
		}
		fmt.Fprintf(w, "  kept deleted: run %s was deleted in the target after it was copied there; it stays deleted\n", id)
	}
	for _, n := range st.TagsKept {
		target, source := "its removal", "none"
		if n.Target != nil {
			target = q(*n.Target)
		}
		if n.Source != nil {
			source = q(*n.Source)
		}
		fmt.Fprintf(w, "  tag kept: run %s tag %s: the target's newer %s stays (the source has %s)\n", n.RunID, q(n.Key), target, source)
	}
	for _, n := range st.Refused {
		fmt.Fprintf(w, "  refused: run %s: %s; not copied\n", q(n.RunID), n.Reason)
	}
	for _, n := range st.MissingFiles {
		fmt.Fprintf(w, "  note: artifact %s of run %s: %s; recorded without its files\n", q(n.Path), n.RunID, n.Reason)
	}
}
