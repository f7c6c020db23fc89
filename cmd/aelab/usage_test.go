package main

import (
	"slices"
	"strings"
	"testing"
)

// walkCommands calls f with the path and entry of every command of the table, groups before
// their subcommands.
func walkCommands(f func(path []string, c *command)) {
	var walk func(prefix []string, cmds []*command)
	walk = func(prefix []string, cmds []*command) {
		for _, c := range cmds {
			path := append(slices.Clone(prefix), c.name)
			f(path, c)
			walk(path, c.subs)
		}
	}
	walk(nil, commands)
}

// A flag that does not exist is one line on stderr and exit 2, for every command and
// subcommand of the table.
func TestUnknownFlagIsOneLine(t *testing.T) {
	walkCommands(func(path []string, c *command) {
		if c.subs != nil {
			return
		}
		code, stdout, stderr := runAelab(t, append(path, "--no-such-flag")...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag") || stdout != "" {
			t.Errorf("aelab %s --no-such-flag: exit %d, stderr %q, stdout %q; want exit 2 and one line", strings.Join(path, " "), code, stderr, stdout)
		}
	})
}

// `aelab help COMMAND [SUBCOMMAND]` prints that command's usage on stdout (a command's flags,
// a group's subcommands, every one of them), never the general help; `aelab GROUP help` and
// `aelab GROUP -h` print the group's.
func TestHelpOfEveryCommand(t *testing.T) {
	_, general, _ := runAelab(t, "help")
	walkCommands(func(path []string, c *command) {
		name := strings.Join(path, " ")
		if !strings.Contains(general, "\n  "+path[0]+" ") {
			t.Errorf("aelab help does not list %s:\n%s", path[0], general)
		}
		helps := [][]string{append([]string{"help"}, path...)}
		if c.subs != nil {
			helps = append(helps, append(slices.Clone(path), "help"), append(slices.Clone(path), "-h"))
		} else {
			helps = append(helps, append(slices.Clone(path), "-h"))
		}
		for _, args := range helps {
			code, stdout, stderr := runAelab(t, args...)
			out := stdout
			if args[len(args)-1] == "-h" && c.subs == nil {
				out = stderr // a command's -h writes to stderr, as package flag does
			}
			if code != 0 || !strings.HasPrefix(out, "Usage: aelab "+name+" ") || out == general {
				t.Errorf("aelab %s: exit %d, want the usage of %q:\nstdout %q\nstderr %q", strings.Join(args, " "), code, name, stdout, stderr)
			}
			for _, sub := range c.subs {
				if !strings.Contains(out, "\n  "+sub.name+" ") {
					t.Errorf("aelab %s does not list the subcommand %s:\n%s", strings.Join(args, " "), sub.name, out)
				}
			}
		}
		if c.subs != nil && !strings.Contains(general, c.subNames(", ")) {
			t.Errorf("aelab help does not list the subcommands of %s (%s):\n%s", name, c.subNames(", "), general)
		}
	})
	for _, args := range [][]string{{"help", "nosuch"}, {"help", "runs", "nosuch"}, {"help", "train", "list"}} {
		if code, stdout, stderr := runAelab(t, args...); code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("aelab %s: exit %d, stdout %q, stderr %q; want exit 2 and one line", strings.Join(args, " "), code, stdout, stderr)
		}
	}
}

// A group without a subcommand shows its subcommands and exits 2 with one line that names
// them all; a group with a default runs it.
func TestGroupWithoutSubcommand(t *testing.T) {
	walkCommands(func(path []string, c *command) {
		if c.subs == nil || c.byDefault != "" {
			return
		}
		code, _, stderr := runAelab(t, path...)
		want := "missing subcommand (aelab " + strings.Join(path, " ") + " " + c.subNames("|") + ")\n"
		if code != 2 || !strings.HasSuffix(stderr, want) {
			t.Errorf("aelab %s: exit %d, stderr %q; want it to end %q", strings.Join(path, " "), code, stderr, want)
		}
	})
	s, db := newTestStore(t)
	s.Close()
	if code, stdout, stderr := runAelab(t, "experiments", "--db", db); code != 0 || !strings.Contains(stdout, "no experiments yet") {
		t.Errorf("aelab experiments: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// Every command's usage says each flag's default once (issue 19, item 18: `aelab train -h`
// said "(default vanilla) (default vanilla)").
func TestUsageSaysEachDefaultOnce(t *testing.T) {
	walkCommands(func(path []string, c *command) {
		if c.subs != nil {
			return
		}
		_, stdout, _ := runAelab(t, append([]string{"help"}, path...)...)
		for _, line := range strings.Split(stdout, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("aelab help %s: %q", strings.Join(path, " "), strings.TrimSpace(line))
			}
		}
	})
	if _, stdout, _ := runAelab(t, "help", "train"); !strings.Contains(stdout, "(default vanilla)") {
		t.Errorf("aelab help train does not say --model's default:\n%s", stdout)
	}
}
