package tracker

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aelab/aelab/internal/pgtest"
)

// Helper processes: the test binary re-executes itself with AELAB_TRACKER_HELPER set.
const helperEnv = "AELAB_TRACKER_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		code := m.Run()
		pgtest.StopShared()
		os.Exit(code)
	case "log1000":
		os.Exit(helperLog1000(os.Getenv("AELAB_TRACKER_TEST_DB"), os.Getenv("AELAB_TRACKER_TEST_WORKER")))
	case "logAndHang":
		os.Exit(helperLogAndHang(os.Getenv("AELAB_TRACKER_TEST_DB")))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(3)
	}
}

func helperLog1000(path, worker string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer s.Close()
	r, err := s.StartRun(RunSpec{Experiment: "race", Name: "worker-" + worker, Params: map[string]string{"worker": worker}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	for i := range 1000 {
		if err := r.LogMetric("loss", 1/float64(i+1), int64(i), i/100); err != nil {
			fmt.Fprintln(os.Stderr, "log:", err)
			return 1
		}
	}
	if err := r.Finish(StatusFinished, ""); err != nil {
		fmt.Fprintln(os.Stderr, "finish:", err)
		return 1
	}
	return 0
}

func helperLogAndHang(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	if d, err := time.ParseDuration(os.Getenv("AELAB_TRACKER_TEST_HEARTBEAT")); err == nil {
		s.SetHeartbeatInterval(d)
	}
	r, err := s.StartRun(RunSpec{Experiment: "doomed", Name: "killed-run"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	for epoch := 1; epoch <= 2; epoch++ {
		if err := r.LogMetrics(map[string]float64{"train_loss": 1 / float64(epoch), "val_loss": 1.1 / float64(epoch)}, int64(epoch), epoch); err != nil {
			fmt.Fprintln(os.Stderr, "log:", err)
			return 1
		}
	}
	fmt.Println("ready", r.ID())
	time.Sleep(time.Minute) // killed long before
	return 0
}

// backend makes stores of one kind for the tests that run on both.
type backend struct {
	name        string
	newLocation func(t testing.TB) string // where no store is yet
}

var (
	sqliteBackend   = backend{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "sub", "aelab.db") }}
	postgresBackend = backend{"postgres", func(t testing.TB) string { return pgtest.Shared(t).NewDatabase(t) }}
	backends        = []backend{sqliteBackend, postgresBackend}
)

// onBackends runs f as a subtest on each backend: every store test runs on
// SQLite and on a real PostgreSQL server (internal/pgtest).
func onBackends(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// store opens a new store on b, closed when t ends.
func (b backend) store(t testing.TB) *Store {
	t.Helper()
	return openAt(t, b.newLocation(t), CurrentSchemaVersion)
}

// openAt opens the store at location migrated to version target (tests use
// older targets), closed when t ends.
func openAt(t testing.TB, location string, target int) *Store {
	t.Helper()
	var s *Store
	var err error
	if IsPostgresURL(location) {
		s, err = openPostgres(location, Options{}, target)
	} else {
		s, err = openSQLite(location, Options{}, target)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tempStore is a new SQLite store, for the tests about SQLite alone.
func tempStore(t testing.TB) *Store { return sqliteBackend.store(t) }

func mustStart(t testing.TB, s *Store, spec RunSpec) *Run {
	t.Helper()
	r, err := s.StartRun(spec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
