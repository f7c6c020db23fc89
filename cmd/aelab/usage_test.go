package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// A flag that does not exist is one line on stderr and exit 2, for every command and
// subcommand (worker, report and ui printed their usage line above it).
func TestUnknownFlagIsOneLine(t *testing.T) {
	var cmds [][]string
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		switch name {
		case "runs", "sweep", "db": // groups: their subcommands below
		default:
			cmds = append(cmds, []string{name})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(runsSubcommands)) {
		cmds = append(cmds, []string{"runs", name})
	}
	for _, name := range slices.Sorted(maps.Keys(sweepSubcommands)) {
		cmds = append(cmds, []string{"sweep", name})
	}
	for _, name := range []string{"start", "stop", "status", "migrate"} {
		cmds = append(cmds, []string{"db", name})
	}
	for _, c := range cmds {
		code, stdout, stderr := runAelab(t, append(c, "--no-such-flag")...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag") || stdout != "" {
			t.Errorf("aelab %s --no-such-flag: exit %d, stderr %q, stdout %q; want exit 2 and one line", strings.Join(c, " "), code, stderr, stdout)
		}
	}
}
