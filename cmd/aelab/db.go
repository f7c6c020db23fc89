package main

// `aelab db`: a PostgreSQL server of aelab's own for a store several processes and machines
// share (internal/pglocal), and schema upgrades of any store.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/aelab/aelab/internal/pglocal"
	"github.com/aelab/aelab/tracker"
)

// dbFlags is the FlagSet of `aelab db start|stop|status`, with --dir.
func dbFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	flags := newFlagSet("db "+name, stderr)
	return flags, flags.String("dir", defaultClusterDir(), "`folder` of the server's data, password and log")
}

// dbStartCommand is `aelab db start`.
func dbStartCommand(args []string, stdout, stderr io.Writer) error {
	flags, dir := dbFlags("start", stderr)
	port := flags.Int("port", 0, "TCP `port` the first start chooses (default: a free one; kept afterwards)")
	listen := flags.String("listen", "127.0.0.1", "`address` the first start listens on; another than 127.0.0.1 lets other machines in, with the password")
	if err := parseFlagsOnly(flags, args); err != nil {
		return helpOr(err)
	}
	return dbStart(*dir, *port, *listen, stdout)
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
	c, err := pglocal.Load(*dir)
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

// defaultClusterDir is where `aelab db start` keeps its server: beside the default store, or,
// for root, in /var/lib/aelab/pg (the server runs as the postgres user, who cannot enter
// /root).
func defaultClusterDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/aelab/pg"
	}
	return filepath.Join(tracker.DataDir(), "pg")
}

// dbStart starts the server in dir, making it the first time, and says how to use it.
func dbStart(dir string, port int, listen string, stdout io.Writer) error {
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
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "aelab db: making a PostgreSQL server in %s (initdb)\n", dir)
		if c, err = pglocal.Init(pglocal.Config{Dir: dir, Port: port, Listen: listen}); err != nil {
			return err
		}
	case err != nil:
		return err
	case c.Running():
		fmt.Fprintf(stdout, "aelab db: already running\n")
	default:
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
// ~/.pgpass, mode 0600) unless it has it, so that the printed AELAB_DB needs none.
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
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if sc.Text() == line {
				f.Close()
				return path, nil
			}
		}
		f.Close()
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintln(f, line)
	if err = errors.Join(err, f.Close()); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o600) // libpq ignores a file others can read
}
