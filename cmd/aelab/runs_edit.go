package main

// `aelab runs tag` and `aelab runs delete`: the commands that change a stored run.

import (
	"fmt"
	"io"
	"strings"
)

func runsTag(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs tag", "runs tag ID key=value [key=value…] [--db PATH]", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) < 2 {
		return usagef("want a run ID and at least one key=value")
	}
	tags := make([][2]string, 0, len(pos)-1)
	for _, kv := range pos[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return usagef("tag %q is not key=value", kv)
		}
		tags = append(tags, [2]string{strings.TrimSpace(k), v})
	}
	s, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	id, err := s.ResolveRunID(pos[0])
	if err != nil {
		return err
	}
	for _, kv := range tags {
		if err := s.SetTag(id, kv[0], kv[1]); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "tagged run %s: %d tag(s)\n", termArgs(id[:min(8, len(id))], len(tags))...)
	return nil
}

func runsDelete(args []string, stdout, stderr io.Writer) error {
	fs, db := newRunsFlags("runs delete", "runs delete ID [ID…] [--db PATH]", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return helpOr(err)
	}
	if len(pos) == 0 {
		return usagef("want the ID of the run to delete")
	}
	s, err := openExisting(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, p := range pos {
		r, err := s.GetRun(p)
		if err != nil {
			return err
		}
		if err := s.DeleteRun(r.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted run %s (%s); `aelab runs list --all` still shows it\n", termArgs(r.ShortID(), r.Name)...)
	}
	return nil
}
