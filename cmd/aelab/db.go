package main

// `aelab db`: a PostgreSQL server of aelab's own for a store several processes and machines
// share (internal/pglocal), and schema upgrades of any store.

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aelab/aelab/internal/pglocal"
	"github.com/aelab/aelab/tracker"
)

// dbFlags is the FlagSet of `aelab db start|stop|status`, with --dir (absolute once parsed).
func dbFlags(name string, stderr io.Writer) (*flag.FlagSet, *absDir) {
	flags := newFlagSet("db "+name, stderr)
	var dir absDir
	if err := dir.Set(defaultClusterDir()); err != nil {
		dir = absDir(defaultClusterDir())
	}
	flags.Var(&dir, "dir", "`folder` of the server's data, password and log")
	return flags, &dir
}

// absDir is a folder flag made absolute when parsed, so that every later use
// names the same folder (the PostgreSQL programs run from inside it).
type absDir string

func (d *absDir) String() string { return string(*d) }

func (d *absDir) Set(v string) error {
	if v == "" {
		return errors.New("empty folder")
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return err
	}
	*d = absDir(abs)
	return nil
}

// dbStartCommand is `aelab db start`.
func dbStartCommand(args []string, stdout, stderr io.Writer) error {
	flags, dir := dbFlags("start", stderr)
	port := flags.Int("port", 0, "TCP `port` of the server (default: a free one the first time; kept afterwards)")
	listen := flags.String("listen", "127.0.0.1", "`address` the first start listens on; another than 127.0.0.1 lets other machines in, with the password")
	if err := parseFlagsOnly(flags, args); err != nil {
		return helpOr(err)
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return dbStart(string(*dir), *port, *listen, set["listen"], stdout)
}

// dbStopCommand is `aelab db stop`.
func dbStopCommand(args []string, stdout, stderr io.Writer) error {
	return dbStopOrStatus("stop", args, stdout, stderr)
}

// dbStatusCommand is `aelab db status`.
func dbStatusCommand(args []string, stdout, stderr io.Writer) error {
	return dbStopOrStatus("status", args, stdout, stderr)
}

// dbStopOrStatus stops the server of --dir, or says how it stands.
func dbStopOrStatus(verb string, args []string, stdout, stderr io.Writer) error {
	flags, dir := dbFlags(verb, stderr)
	if err := parseFlagsOnly(flags, args); err != nil {
		return helpOr(err)
	}
	c, err := pglocal.Load(string(*dir))
	if errors.Is(err, fs.ErrNotExist) {
		return usagef("no server in %s (aelab db start makes one)", *dir)
	}
	if err != nil {
		return err
	}
	if verb == "stop" {
		if !c.Running() {
			fmt.Fprintf(stdout, "aelab db: the server in %s is not running\n", *dir)
			return nil
		}
		if err := c.Stop(false); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "aelab db: stopped the server in %s\n", *dir)
		return nil
	}
	state := "stopped (aelab db start starts it)"
	if c.Running() {
		state = "running"
	}
	fmt.Fprintf(stdout, "aelab db: %s, port %d, data in %s\n  export AELAB_DB=%s\n", state, c.Port, *dir, c.URL("", false))
	return nil
}

// dbMigrateCommand is `aelab db migrate`: opening a store for writing brings its schema up
// to date.
func dbMigrateCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("db migrate", stderr)
	db := storeFlag(flags)
	if err := parseFlagsOnly(flags, args); err != nil {
		return helpOr(err)
	}
	s, err := openExisting(*db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "aelab db: %s is at schema version %d\n", s.Path(), tracker.CurrentSchemaVersion)
	return s.Close()
}

// dbBackupCommand is `aelab db backup --to FILE`: a consistent copy of a SQLite store, safe
// while other processes use it (SQLite's online backup API; a copy of aelab.db alone misses
// the runs still in aelab.db-wal). A PostgreSQL store is pg_dump's job.
func dbBackupCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("db backup", stderr)
	db := storeFlag(flags)
	to := flags.String("to", "", "the new `file` to write the copy to (never replaced)")
	if err := parseFlagsOnly(flags, args); err != nil {
		return helpOr(err)
	}
	if tracker.IsPostgresURL(db.location) {
		return usagef("%s is a PostgreSQL store: back it up with PostgreSQL's pg_dump (pg_dump -Fc -f FILE '%s')", tracker.RedactURL(db.location), tracker.RedactURL(db.location))
	}
	if *to == "" {
		return usagef("--to FILE is missing: the file to write the copy to")
	}
	if _, err := os.Lstat(*to); err == nil {
		return usagef("--to %s: the file exists; name a new one", *to)
	}
	s, err := openReadOnly(*db)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.Backup(context.Background(), *to)
	if errors.Is(err, fs.ErrExist) {
		return usagef("--to %s: the file exists; name a new one", *to)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "aelab db: backed up %s to %s (%d runs; artifact files such as checkpoints are not in it: copy %s too)\n",
		s.Path(), *to, n, s.ArtifactRoot())
	return nil
}

// defaultClusterDir is where `aelab db start` keeps its server: beside the default store, or,
// for root, in /var/lib/aelab/pg (the server runs as the postgres user, who cannot enter
// /root).
func defaultClusterDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/aelab/pg"
	}
	return filepath.Join(tracker.DataDir(), "pg")
}

// dbStart starts the server in dir (absolute), making it the first time, and
// says how to use it. A port given for a server made before is its new port:
// applied when the server is stopped (and kept only once it starts there),
// refused while it runs on another. The listen address is the first start's.
func dbStart(dir string, port int, listen string, listenSet bool, stdout io.Writer) error {
	if port < 0 || port > 65535 {
		return usagef("--port %d: a TCP port is 1 to 65535", port)
	}
	c, err := pglocal.Load(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if port == 0 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		}
		fmt.Fprintf(stdout, "aelab db: making a PostgreSQL server in %s (initdb)\n", dir)
		if c, err = pglocal.Init(pglocal.Config{Dir: dir, Port: port, Listen: listen}); err != nil {
			return err
		}
	case err != nil:
		return err
	case listenSet && listen != cmp.Or(c.Listen, "127.0.0.1"):
		return usagef("the server in %s listens on %s, as its first start said; another address needs another server (--dir)", dir, cmp.Or(c.Listen, "127.0.0.1"))
	case c.Running():
		if port != 0 && port != c.Port {
			return usagef("the server in %s is running on port %d; to move it to port %d, stop it first (aelab db stop --dir %s)", dir, c.Port, port, dir)
		}
		fmt.Fprintf(stdout, "aelab db: already running\n")
	default:
		if port != 0 && port != c.Port {
			fmt.Fprintf(stdout, "aelab db: moving the server in %s from port %d to port %d\n", dir, c.Port, port)
			c.Port, c.FreePort = port, false
		}
		if err := c.Start(); err != nil {
			return err
		}
	}
	pgpass, err := rememberPassword(c)
	if err != nil {
		return err
	}
	store, err := tracker.Open(c.URL("", true)) // the store's schema, so that reading commands work at once
	if err != nil {
		return err
	}
	store.Close()
	fmt.Fprintf(stdout, "aelab db: serving on port %d (data and log in %s; aelab db stop stops it)\n", c.Port, dir)
	fmt.Fprintf(stdout, "  the password is in %s (libpq's password file; never printed)\n", pgpass)
	fmt.Fprintf(stdout, "  export AELAB_DB=%s\n", c.URL("", false))
	if c.Listen != "" && c.Listen != "127.0.0.1" {
		host, _ := os.Hostname()
		fmt.Fprintf(stdout, "  other machines: AELAB_DB=%s and this line in their ~/.pgpass:\n    %s:%d:*:%s:<the password in %s>\n",
			strings.Replace(c.URL("", false), "127.0.0.1", host, 1), host, c.Port, c.User, pgpass)
		fmt.Fprintln(stdout, "  (connections are not encrypted: keep it on a network you trust)")
	}
	return nil
}

// rememberPassword adds the cluster's password to libpq's password file ($PGPASSFILE or
// ~/.pgpass) unless it has it, so that the printed AELAB_DB needs none. The line is
// appended, on a line of its own (after a newline when the file lacks a final one); the
// other lines stay as they are, and the file is left private (0600: libpq ignores a file
// others can read).
func rememberPassword(c *pglocal.Cluster) (string, error) {
	path := os.Getenv("PGPASSFILE")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		path = filepath.Join(home, ".pgpass")
	}
	line := fmt.Sprintf("127.0.0.1:%d:*:%s:%s", c.Port, c.User, c.Password())
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if slices.Contains(strings.Split(strings.ReplaceAll(string(old), "\r\n", "\n"), "\n"), line) {
		return path, os.Chmod(path, 0o600)
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		line = "\n" + line
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintln(f, line)
	if err = errors.Join(err, f.Close()); err != nil {
		return "", fmt.Errorf("password file %s: %w", path, err)
	}
	return path, os.Chmod(path, 0o600)
}
