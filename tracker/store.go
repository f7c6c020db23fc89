package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// BusyTimeout is how long a write waits for another process's lock before failing.
const BusyTimeout = 10 * time.Second

// DefaultHeartbeatInterval is how often a live run updates its heartbeat.
const DefaultHeartbeatInterval = 5 * time.Second

var (
	// ErrNoStore is wrapped by the errors of opens that find no store where one must
	// exist (reading opens, OpenExisting): no file at the path, or an empty one.
	ErrNoStore = errors.New("no experiment store")
	// ErrNotStore is wrapped by the errors of opens that find a database that is not
	// an aelab store (another program's). It is left exactly as it was.
	ErrNotStore = errors.New("not an aelab store")
	// ErrReadOnly is wrapped by the errors of writes to a store opened with OpenReadOnly.
	ErrReadOnly = errors.New("store is open read-only")
)

// Options say how to open a store.
type Options struct {
	// ReadOnly opens the store for reading only: nothing is created, migrated or
	// written (runs whose process died are reported LOST without recording it),
	// and a store on a read-only filesystem can be read.
	ReadOnly bool
	// MustExist refuses to create a store where there is none (ReadOnly implies it).
	MustExist bool
}

// Store is an open experiment store. It is safe for concurrent use.
type Store struct {
	path     string
	readOnly bool
	w        *sql.DB // the one writer connection; nil when read-only
	r        *sql.DB // read pool
	reserve  *diskReserve

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

// Open opens the store at path for reading and writing, creating it (and its
// directory) if there is none, and migrating its schema forward to the version
// this code knows. An empty file is made a store; a database that is not an aelab
// store is refused (ErrNotStore) and left unchanged.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenExisting opens the store at path like Open, but fails with an error
// wrapping ErrNoStore, instead of creating one, when there is none. Commands
// that change existing runs use it so that a mistyped path does not leave an
// empty store.
func OpenExisting(path string) (*Store, error) { return OpenWith(path, Options{MustExist: true}) }

// OpenReadOnly opens the store at path for reading only: commands that only
// read runs use it. It never creates, migrates or writes anything; it fails
// with an error wrapping ErrNoStore when there is no store at path, and one
// wrapping ErrNotStore for another program's database.
func OpenReadOnly(path string) (*Store, error) { return OpenWith(path, Options{ReadOnly: true}) }

// OpenWith opens the store at path as o says.
func OpenWith(path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("tracker: open: empty store path")
	}
	return openSQLite(path, o, CurrentSchemaVersion)
}

func newStore(path string, readOnly bool, w, r *sql.DB) *Store {
	return &Store{path: path, readOnly: readOnly, w: w, r: r,
		heartbeat: DefaultHeartbeatInterval, runs: map[*Run]struct{}{}}
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// writer is the writer connection, or an error wrapping ErrReadOnly.
func (s *Store) writer() (*sql.DB, error) {
	if s.readOnly {
		return nil, fmt.Errorf("tracker: %s: %w", s.path, ErrReadOnly)
	}
	return s.w, nil
}

// exec runs one write statement on the writer connection.
func (s *Store) exec(query string, args ...any) (sql.Result, error) {
	w, err := s.writer()
	if err != nil {
		return nil, err
	}
	return w.Exec(query, args...)
}

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
	err := s.r.Close()
	if s.w != nil {
		err = errors.Join(err, s.w.Close())
	}
	if err != nil {
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
