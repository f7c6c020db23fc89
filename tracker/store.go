package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
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
	// ErrNewerSchema is wrapped by the errors of opens that find a store written by
	// a newer aelab, whose schema this code does not know. It is left unchanged.
	ErrNewerSchema = errors.New("upgrade aelab")
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
	// ArtifactRoot is the folder artifacts live under (see Store.ArtifactRoot);
	// empty for $AELAB_ARTIFACTS or the default.
	ArtifactRoot string
	// Now is the store's clock: run start and end times, metric timestamps, heartbeats
	// and the age that makes a run LOST are read from it. time.Now when nil; tests set
	// it so that time passes without sleeping.
	Now func() time.Time
}

// Store is an open experiment store. It is safe for concurrent use.
type Store struct {
	path     string // where it lives, fit to print: the file, or the URL without its password
	d        *dialect
	readOnly bool
	w        *sql.DB // writes: SQLite's one writer connection, PostgreSQL's pool; nil when read-only
	r        *sql.DB // reads: SQLite's read pool; PostgreSQL's pool (w's)
	reserve  *diskReserve
	secret   string          // the database password, kept out of errors and stored text
	pgConfig *pgx.ConnConfig // how to connect again (OpenDB), on PostgreSQL
	// artifactRoot is the folder artifact paths are recorded relative to.
	artifactRoot string
	clock        func() time.Time // Options.Now

	mu        sync.Mutex
	heartbeat time.Duration
	lostAfter time.Duration
	flushFor  time.Duration
	runs      map[*Run]struct{} // live runs, stopped on Close
	notices   io.Writer         // where runs say that the store is unreachable (SetNotices)
}

// DefaultPath is the store shared by the CLI and the notebooks: $AELAB_DB if set
// (a file path or a postgres:// URL), else $XDG_DATA_HOME/aelab/aelab.db, else
// ~/.local/share/aelab/aelab.db.
func DefaultPath() string {
	if p := os.Getenv("AELAB_DB"); p != "" {
		return p
	}
	return filepath.Join(DataDir(), "aelab.db")
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

// OpenWith opens the store at location as o says: a SQLite file path, or a
// postgres:// (postgresql://) URL of a PostgreSQL database.
func OpenWith(location string, o Options) (*Store, error) {
	if location == "" {
		return nil, errors.New("tracker: open: empty store path")
	}
	var s *Store
	var err error
	if IsPostgresURL(location) {
		s, err = openPostgres(location, o, CurrentSchemaVersion)
	} else {
		s, err = openSQLite(location, o, CurrentSchemaVersion)
	}
	if err != nil {
		return nil, err
	}
	s.artifactRoot = artifactRootFor(location, o.ArtifactRoot)
	if o.Now != nil {
		s.clock = o.Now
	}
	return s, nil
}

func newStore(path string, d *dialect, readOnly bool, w, r *sql.DB) *Store {
	if readOnly {
		w = nil
	}
	return &Store{path: path, d: d, readOnly: readOnly, w: w, r: r, clock: time.Now,
		heartbeat: DefaultHeartbeatInterval, lostAfter: DefaultLostAfter, flushFor: FlushTimeout, runs: map[*Run]struct{}{}}
}

// Path is where the store lives, fit to print: the SQLite file, or the
// PostgreSQL URL without its password.
func (s *Store) Path() string { return s.path }

// Dialect is the database the store lives in.
func (s *Store) Dialect() Dialect { return s.d.name }

// reader runs tracker SQL on the read pool.
func (s *Store) reader() sqlRunner { return sqlRunner{context.Background(), s.d, s.r} }

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// writer is the writer connection, or an error wrapping ErrReadOnly.
func (s *Store) writer() (*sql.DB, error) {
	if s.readOnly {
		return nil, fmt.Errorf("tracker: %s: %w", s.path, ErrReadOnly)
	}
	return s.w, nil
}

// exec runs one write statement of tracker SQL on the writer.
func (s *Store) exec(query string, args ...any) (sql.Result, error) {
	return s.execContext(context.Background(), query, args...)
}

func (s *Store) execContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	w, err := s.writer()
	if err != nil {
		return nil, err
	}
	return sqlRunner{ctx, s.d, w}.exec(query, args...)
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

// SetFlushTimeout sets how long Finish and Close wait for the store to take the
// writes kept for it while it was unreachable (default FlushTimeout).
func (s *Store) SetFlushTimeout(d time.Duration) {
	if d <= 0 {
		d = FlushTimeout
	}
	s.mu.Lock()
	s.flushFor = d
	s.mu.Unlock()
}

func (s *Store) flushTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushFor
}

// Close stops the heartbeats of runs still open (they stay RUNNING, and readers
// will call them LOST once this process is gone), writes what they kept for the
// store (waiting up to the flush timeout), and closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	runs := make([]*Run, 0, len(s.runs))
	for r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.stopHeartbeat()
		r.flush(time.Now().Add(s.flushTimeout()))
	}
	err := s.r.Close()
	if s.w != nil && s.w != s.r {
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

// now reads the store's clock.
func (s *Store) now() time.Time { return s.clock() }

// nowMS is the store's clock in Unix milliseconds, as times are stored.
func (s *Store) nowMS() int64 { return s.clock().UnixMilli() }
