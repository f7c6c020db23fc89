package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// driverName is go-sqlite3 with aelab's SQL functions registered on every connection.
const driverName = "sqlite3_aelab"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			// aelab_num(text) is the number a text spells, or NULL: it lets
			// params/tags compare numerically without matching non-numbers.
			return c.RegisterFunc("aelab_num", sqlNumber, true)
		},
	})
}

// sqlNumber parses a parameter or tag value as a number (NULL when it is not one).
func sqlNumber(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil
		}
		return f
	case []byte:
		return sqlNumber(string(x))
	}
	return nil
}

// BusyTimeout is how long a write waits for another process's lock before failing.
const BusyTimeout = 10 * time.Second

// DefaultHeartbeatInterval is how often a live run updates its heartbeat.
const DefaultHeartbeatInterval = 5 * time.Second

// ErrNoStore is returned by OpenExisting when there is no store file at the path.
var ErrNoStore = errors.New("no experiment store")

// Store is an open experiment store. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // read pool

	mu        sync.Mutex
	heartbeat time.Duration
	runs      map[*Run]struct{} // live runs, stopped on Close
}

// DefaultPath is the store shared by the CLI and the notebooks: $AELAB_DB if set,
// else $XDG_DATA_HOME/aelab/aelab.db, else ~/.local/share/aelab/aelab.db.
func DefaultPath() string {
	if p := os.Getenv("AELAB_DB"); p != "" {
		return p
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "aelab", "aelab.db")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(".aelab", "aelab.db")
	}
	return filepath.Join(home, ".local", "share", "aelab", "aelab.db")
}

// Open opens the store at path, creating the file (and its directory) if needed
// and migrating its schema forward to the version this code knows.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("tracker: open: empty store path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("tracker: open %s: %w", path, err)
		}
	}
	return open(path, CurrentSchemaVersion)
}

// OpenExisting opens the store at path like Open, but fails with an error
// wrapping ErrNoStore, instead of creating one, when the file does not exist.
// Read-only commands use it so that a mistyped path does not leave an empty store.
func OpenExisting(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("tracker: open: empty store path")
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s (nothing tracked there yet; train a run or pass --db)", ErrNoStore, path)
		}
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	return open(path, CurrentSchemaVersion)
}

func dsn(path string, extra string) string {
	u := url.URL{Scheme: "file", Opaque: url.PathEscape(path)}
	q := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL%s",
		BusyTimeout.Milliseconds(), extra)
	return u.String() + "?" + q
}

// open opens path and migrates it to version target (tests use older targets).
func open(path string, target int) (*Store, error) {
	w, err := sql.Open(driverName, dsn(path, "&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := pingRetry(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	if err := migrate(w, path, target); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open(driverName, dsn(path, "&_txlock=deferred&_query_only=1"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	if err := pingRetry(r); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	return &Store{path: path, w: w, r: r, heartbeat: DefaultHeartbeatInterval, runs: map[*Run]struct{}{}}, nil
}

// pingRetry opens the first connection. Switching a brand-new file to WAL needs
// a lock that SQLite does not always wait for, so a busy answer is retried.
func pingRetry(db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeout)
	for {
		err := db.Ping()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

// SetHeartbeatInterval sets how often runs started after the call update their
// heartbeat (default DefaultHeartbeatInterval). Readers call a RUNNING run owned
// by another host LOST when its heartbeat is older than 3 intervals (at least 30 s).
func (s *Store) SetHeartbeatInterval(d time.Duration) {
	if d <= 0 {
		d = DefaultHeartbeatInterval
	}
	s.mu.Lock()
	s.heartbeat = d
	s.mu.Unlock()
}

// Close stops the heartbeats of runs still open (they stay RUNNING, and readers
// will call them LOST once this process is gone) and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	runs := make([]*Run, 0, len(s.runs))
	for r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.stopHeartbeat()
	}
	err1 := s.r.Close()
	err2 := s.w.Close()
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("tracker: close %s: %w", s.path, err)
	}
	return nil
}

// msTime converts a stored Unix-milliseconds value to a time (zero for NULL/0).
func msTime(ms sql.NullInt64) time.Time {
	if !ms.Valid || ms.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}

func nowMS() int64 { return time.Now().UnixMilli() }
