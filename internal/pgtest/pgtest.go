package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aelab/aelab/internal/pglocal"
	"github.com/aelab/aelab/internal/testenv"
)

// Server is a throwaway PostgreSQL server.
type Server struct {
	*pglocal.Cluster
}

// dirPrefix names the servers' folders in the temporary folder.
const dirPrefix = "aelab-pgtest-"

// testSettings trade durability for speed: the data is thrown away anyway.
var testSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
	"shared_buffers": "32MB", "max_connections": "200"}

// available skips tb (or fails it with CI=true) when PostgreSQL is not installed.
func available(tb testing.TB) {
	tb.Helper()
	_, err := pglocal.Binaries()
	testenv.Need(tb, err, "PostgreSQL's server (make setup installs it)")
}

// Start starts a new server (for a TestMain; tests use New or Shared).
func Start() (*Server, error) { return StartOn(Network{}) }

// Network is where a server listens: an address, maybe inside a network namespace (the
// multi-host tests' "db" host). The zero value is 127.0.0.1 here.
type Network struct {
	Listen string // the address; 127.0.0.1 when empty (others let clients in with the password)
	NetNS  string // the network namespace (ip netns) it runs in; this process's when empty
}

// NewOn starts a server for tb alone on network n, removed when tb ends.
func NewOn(tb testing.TB, n Network) *Server {
	tb.Helper()
	available(tb)
	s, err := StartOn(n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

// StartOn starts a new server on network n.
func StartOn(n Network) (*Server, error) {
	reapOrphans()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	c, err := pglocal.Init(pglocal.Config{Dir: dir, Settings: testSettings, Listen: n.Listen, NetNS: n.NetNS})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: start a server: %w", err)
	}
	return &Server{c}, nil
}

// New starts a server for tb alone, removed when tb ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	available(tb)
	s, err := Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

// Stop stops the server and deletes its folder.
func (s *Server) Stop() error { return s.Remove() }

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	databases  atomic.Int64
)

// Shared is one server for all the tests of a test binary, started by the
// first test that asks. The package's TestMain stops it with StopShared.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	available(tb)
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

// NewDatabase creates a fresh database on s and returns its URL, password included.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), databases.Add(1))
	if err := s.CreateDatabase(context.Background(), name); err != nil {
		tb.Fatal(err)
	}
	return s.URL(name, true)
}

// reapOrphans removes the servers of test processes that died without stopping them.
func reapOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		if c, err := pglocal.Load(dir); err == nil {
			c.Remove()
		} else {
			os.RemoveAll(dir)
		}
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || !errors.Is(err, syscall.ESRCH)
}
