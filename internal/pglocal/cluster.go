package pglocal

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// ErrNoBinaries is wrapped by Binaries' error when PostgreSQL is not installed.
var ErrNoBinaries = errors.New("PostgreSQL's initdb and pg_ctl not found (install Debian's postgresql: make setup)")

// Binaries returns the folder holding initdb and pg_ctl.
func Binaries() (string, error) {
	if d := os.Getenv("AELAB_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err != nil {
			return "", fmt.Errorf("AELAB_PG_BIN=%s: %w", d, ErrNoBinaries)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(p), nil
		}
	}
	return "", ErrNoBinaries
}

// version is the major version in /usr/lib/postgresql/VERSION/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// Config says how to make a cluster.
type Config struct {
	Dir      string            // the cluster's folder (created; must not hold a cluster yet)
	Port     int               // 0: a free port, chosen at every start until one works
	User     string            // the superuser; "aelab" when empty
	Database string            // a database created for the superuser; "aelab" when empty
	Settings map[string]string // server settings (postgresql.conf), e.g. fsync=off for tests
	// Listen is the address the server listens on: 127.0.0.1 when empty. Any
	// other lets other machines connect, with the password (scram-sha-256).
	Listen string
	// NetNS is the network namespace (ip netns) the server runs in: this process's when empty.
	NetNS string
}

// Cluster is a PostgreSQL server in a folder.
type Cluster struct {
	Dir      string            `json:"-"`
	Port     int               `json:"port"`
	User     string            `json:"user"`
	Database string            `json:"database"`
	Settings map[string]string `json:"settings,omitempty"`
	Listen   string            `json:"listen,omitempty"`
	FreePort bool              `json:"free_port,omitempty"` // choose another port when Port is taken
	NetNS    string            `json:"netns,omitempty"`
	password string
	bin      string
}

const (
	stateFile    = "cluster.json"
	passwordFile = "password"
	logFile      = "server.log"
)

// Init creates a cluster: its folder, initdb with a generated password, and
// its database (the server is started to create it and left running). The
// folder is made absolute first, since the PostgreSQL programs run from inside
// it. When a step fails, Init removes what it made (the folder and any parent it
// created, or, in a folder that was there, the files it wrote), so that a
// failed first start leaves nothing that a later one would take for a cluster.
func Init(cfg Config) (*Cluster, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Port: cfg.Port, User: cfg.User, Database: cfg.Database, Settings: cfg.Settings,
		Listen: cfg.Listen, NetNS: cfg.NetNS, FreePort: cfg.Port == 0, bin: bin}
	if c.User == "" {
		c.User = "aelab"
	}
	if c.Database == "" {
		c.Database = "aelab"
	}
	for _, name := range []string{"data", stateFile} {
		if _, err := os.Stat(filepath.Join(c.Dir, name)); err == nil {
			return nil, fmt.Errorf("%s already holds a cluster", c.Dir)
		}
	}
	made := firstMissing(c.Dir)
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	if err := c.create(); err != nil {
		return nil, errors.Join(err, c.undoInit(made))
	}
	return c, nil
}

// create is Init's work in the cluster's folder, which exists.
func (c *Cluster) create() error {
	var pw [16]byte
	rand.Read(pw[:])
	c.password = hex.EncodeToString(pw[:])
	if err := c.writeOwned(passwordFile, c.password+"\n"); err != nil {
		return err
	}
	if err := c.chown(c.Dir); err != nil {
		return err
	}
	if err := c.run("initdb", "-D", c.dataDir(), "-U", c.User, "--pwfile="+filepath.Join(c.Dir, passwordFile),
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions"); err != nil {
		return err
	}
	if c.Listen != "" && c.Listen != "127.0.0.1" && c.Listen != "localhost" {
		// initdb lets in loopback connections only; other hosts with the password too.
		hba, err := os.OpenFile(filepath.Join(c.dataDir(), "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = hba.WriteString("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n")
		if err = errors.Join(err, hba.Close()); err != nil {
			return err
		}
	}
	if err := c.save(); err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return err
	}
	return c.CreateDatabase(context.Background(), c.Database)
}

// undoInit removes what a failed Init made: made, the topmost folder it
// created, or, when c.Dir was there before, the files Init writes in it. A
// server it started is stopped first.
func (c *Cluster) undoInit(made string) error {
	var err error
	if _, serr := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); serr == nil {
		err = c.Stop(true)
	}
	if made != "" {
		return errors.Join(err, os.RemoveAll(made))
	}
	for _, name := range []string{"data", passwordFile, stateFile, logFile} {
		err = errors.Join(err, os.RemoveAll(filepath.Join(c.Dir, name)))
	}
	return err
}

// firstMissing is the topmost folder on the way to dir (dir included) that
// does not exist, or "" when dir exists.
func firstMissing(dir string) string {
	missing := ""
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil {
			return missing
		}
		missing = p
		if filepath.Dir(p) == p {
			return missing
		}
	}
}

// Load opens the cluster Init made in dir (made absolute: the PostgreSQL
// programs run from inside it).
func Load(dir string) (*Cluster, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	pw, err := os.ReadFile(filepath.Join(dir, passwordFile))
	if err != nil {
		return nil, err
	}
	c.password = strings.TrimSpace(string(pw))
	return c, nil
}

func (c *Cluster) save() error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return c.writeOwned(stateFile, string(b)+"\n")
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// Password is the superuser's password.
func (c *Cluster) Password() string { return c.password }

// URL is the connection URL of database db (the cluster's own when empty), with
// the password when withPassword is true.
func (c *Cluster) URL(db string, withPassword bool) string {
	if db == "" {
		db = c.Database
	}
	host := "127.0.0.1" // a server listening everywhere is reached on loopback from here
	if c.Listen != "" && c.Listen != "*" && c.Listen != "0.0.0.0" && c.Listen != "::" {
		host = c.Listen
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, strconv.Itoa(c.Port)), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	if withPassword {
		u.User = url.UserPassword(c.User, c.password)
	} else {
		u.User = url.User(c.User)
	}
	return u.String()
}

// Running reports whether the server is up.
func (c *Cluster) Running() bool {
	return c.run("pg_ctl", "-D", c.dataDir(), "status") == nil
}

// Start starts the server and waits until it accepts connections. With a free
// port chosen at start, a port taken meanwhile by another program is retried.
func (c *Cluster) Start() error {
	var err error
	for range 5 {
		if c.FreePort {
			if c.Port, err = freePort(); err != nil {
				return err
			}
		}
		listen := c.Listen
		if listen == "" {
			listen = "127.0.0.1"
		}
		opts := fmt.Sprintf("-c port=%d -c listen_addresses=%s -c unix_socket_directories=%s", c.Port, listen, c.Dir)
		keys := make([]string, 0, len(c.Settings))
		for k := range c.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			opts += fmt.Sprintf(" -c %s=%s", k, c.Settings[k])
		}
		if err = c.run("pg_ctl", "-D", c.dataDir(), "-o", opts, "-l", filepath.Join(c.Dir, logFile), "-w", "-t", "60", "start"); err == nil {
			return c.save()
		}
		if !c.FreePort || !strings.Contains(c.logTail(), "could not bind") {
			break
		}
	}
	if strings.Contains(c.logTail(), "could not bind") {
		listen := cmp.Or(c.Listen, "127.0.0.1")
		return fmt.Errorf("the server cannot listen on %s port %d: another program uses it (choose another port)", listen, c.Port)
	}
	return fmt.Errorf("%w; the server log says: %s", err, keyLines(c.logTail()))
}

// Restart restarts the server with pg_ctl restart (connections drop).
func (c *Cluster) Restart() error {
	if err := c.run("pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, logFile), "-m", "fast", "-w", "-t", "60", "restart"); err != nil {
		return fmt.Errorf("%w; the server log says: %s", err, keyLines(c.logTail()))
	}
	return nil
}

// Stop stops the server: fast (clean shutdown) or, when immediate, at once.
func (c *Cluster) Stop(immediate bool) error {
	mode := "fast"
	if immediate {
		mode = "immediate"
	}
	return c.run("pg_ctl", "-D", c.dataDir(), "-m", mode, "-w", "-t", "60", "stop")
}

// Remove stops the server at once and deletes the cluster's folder.
func (c *Cluster) Remove() error {
	var err error
	if c.Running() {
		err = c.Stop(true)
	}
	return errors.Join(err, os.RemoveAll(c.Dir))
}

// CreateDatabase creates database name, owned by the cluster's user.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres", true))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", c.URL("postgres", false), err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// keyLines is the gist of a PostgreSQL program's output or log, on one line:
// its error lines (error:, FATAL:, PANIC:, could not …), else its last line.
func keyLines(out string) string {
	var key []string
	last := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		last = line
		l := strings.ToLower(line)
		if strings.Contains(l, "error:") || strings.Contains(line, "FATAL:") || strings.Contains(line, "PANIC:") ||
			strings.Contains(l, "could not") {
			if !slices.Contains(key, line) {
				key = append(key, line)
			}
		}
	}
	if len(key) == 0 {
		return last
	}
	return strings.Join(key, "; ")
}

// logTail is the end of the server log.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, logFile))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// run runs a PostgreSQL program as the server's user.
func (c *Cluster) run(prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if u, err := c.serverUser(); err != nil {
		return err
	} else if u != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid}}
		cmd.Env = append(cmd.Env, "HOME="+c.Dir, "USER=postgres", "LOGNAME=postgres")
	}
	// Output goes to a file, not a pipe: a server that pg_ctl starts inherits
	// it, and a pipe would stay open (and Wait waiting) as long as the server runs.
	out, err := os.CreateTemp("", "aelab-pg-cmd-")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := inNetNS(c.NetNS, cmd.Run); err != nil {
		msg, _ := os.ReadFile(out.Name())
		return fmt.Errorf("%s %s: %w: %s", prog, args[len(args)-1], err, keyLines(string(msg)))
	}
	return nil
}

type ids struct{ uid, gid uint32 }

// serverUser is the user the server runs as: "postgres" when we are root
// (PostgreSQL refuses to run as root), nil (ourselves) otherwise.
func (c *Cluster) serverUser() (*ids, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, the server needs the unprivileged user postgres (Debian's postgresql package makes it): %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &ids{uint32(uid), uint32(gid)}, nil
}

// chown gives path to the server's user.
func (c *Cluster) chown(path string) error {
	u, err := c.serverUser()
	if err != nil || u == nil {
		return err
	}
	return os.Chown(path, int(u.uid), int(u.gid))
}

// writeOwned writes a private file in the cluster's folder, owned by the server's user.
func (c *Cluster) writeOwned(name, content string) error {
	p := filepath.Join(c.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		return err
	}
	return c.chown(p)
}

// freePort is a TCP port free on 127.0.0.1 right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// inNetNS runs fn, which starts a process, from a thread in network namespace ns (ip netns
// add's /run/netns/NAME), so the process lives there; fn runs as is when ns is empty. The
// thread is never handed back to Go's scheduler: it ends with its goroutine.
func inNetNS(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread, now in ns, exits with this goroutine
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("enter network namespace %s: %w", ns, err)
			return
		}
		done <- fn()
	}()
	return <-done
}
