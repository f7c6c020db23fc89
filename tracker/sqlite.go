package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
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

// sqliteDSN is the go-sqlite3 data source for path with the given URI parameters.
func sqliteDSN(path string, params string) string {
	u := url.URL{Scheme: "file", Opaque: url.PathEscape(path)}
	return u.String() + fmt.Sprintf("?_busy_timeout=%d&", BusyTimeout.Milliseconds()) + params
}

// Connection parameters. Only the writer switches the journal mode (a write);
// readers never change the file. Readers open without SQLite's per-connection mutex
// (_mutex=no): database/sql never uses a connection from two goroutines at once, and
// the mutex, taken for every column of every row, was a tenth of reading a million
// metric rows.
const (
	sqliteWriterParams   = "_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"
	sqliteReaderParams   = "_foreign_keys=1&_synchronous=NORMAL&_txlock=deferred&_query_only=1&_mutex=no"
	sqliteReadOnlyParams = "mode=ro&_query_only=1&_mutex=no"
	// On read-only media SQLite cannot create the WAL index a WAL-mode file needs;
	// immutable tells it no one can change the file, so it reads without one.
	sqliteImmutableParams = "mode=ro&immutable=1&_query_only=1&_mutex=no"
)

// openSQLite opens the store file at path and, unless read-only, migrates it to
// version target (tests use older targets). Nothing that could write happens
// before the file is known to be a store, an empty file or a new path.
func openSQLite(path string, o Options, target int) (*Store, error) {
	readOnly := o.ReadOnly
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if readOnly || o.MustExist {
			return nil, fmt.Errorf("%w at %s (nothing tracked there yet; train a run or pass --db)", ErrNoStore, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("tracker: open %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	case fi.IsDir():
		return nil, fmt.Errorf("tracker: open %s: it is a folder, not a store file", path)
	case fi.Size() == 0:
		if readOnly || o.MustExist {
			return nil, fmt.Errorf("%w at %s: the file is empty (nothing tracked there yet)", ErrNoStore, path)
		}
	default:
		shape, err := probeSQLite(path)
		if err != nil {
			return nil, err
		}
		if err := shape.check(path, o, target); err != nil {
			return nil, err
		}
	}
	if readOnly {
		r, err := openSQLiteReadOnly(path)
		if err != nil {
			return nil, err
		}
		return newStore(path, sqliteDialect, true, nil, r), nil
	}

	w, err := sql.Open(driverName, sqliteDSN(path, sqliteWriterParams))
	if err != nil {
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := pingRetry(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("tracker: open %s: %w", path, whyNotWritable(path, err))
	}
	if err := migrate(w, sqliteDialect, path, target); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open(driverName, sqliteDSN(path, sqliteReaderParams))
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
	s := newStore(path, sqliteDialect, false, w, r)
	s.reserve = newDiskReserve(path + "-reserve")
	return s, nil
}

// whyNotWritable explains a writer connection that failed to open: SQLite says
// "unable to open database file: no such file or directory" also when the file is
// there but cannot be written (a read-only filesystem, no permission).
func whyNotWritable(path string, err error) error {
	f, oerr := os.OpenFile(path, os.O_RDWR, 0)
	if oerr == nil {
		f.Close()
		return err
	}
	var pe *fs.PathError
	if errors.As(oerr, &pe) && !errors.Is(oerr, fs.ErrNotExist) {
		if errors.Is(pe.Err, syscall.EROFS) {
			return fmt.Errorf("%w (commands that only read work there)", pe.Err)
		}
		return pe.Err
	}
	return err
}

// openSQLiteReadOnly opens a read pool that cannot write: read-only mode, or
// immutable where the file sits on read-only media.
func openSQLiteReadOnly(path string) (*sql.DB, error) {
	var firstErr error
	for _, params := range []string{sqliteReadOnlyParams, sqliteImmutableParams} {
		r, err := sql.Open(driverName, sqliteDSN(path, params))
		if err != nil {
			return nil, fmt.Errorf("tracker: open %s: %w", path, err)
		}
		r.SetMaxOpenConns(4)
		// The first read opens the WAL index; that is where read-only media fail.
		var n int
		err = r.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n)
		if err == nil {
			return r, nil
		}
		r.Close()
		if firstErr == nil {
			firstErr = err
		}
		var se sqlite3.Error
		if !errors.As(err, &se) || se.Code != sqlite3.ErrCantOpen {
			break
		}
	}
	return nil, fmt.Errorf("tracker: open %s read-only: %w", path, firstErr)
}

// probeSQLite reads what the file at path holds without writing to it (not even
// the WAL index, when no process has the file open).
func probeSQLite(path string) (storeShape, error) {
	paramsList := []string{sqliteReadOnlyParams}
	if _, err := os.Stat(path + "-wal"); err != nil {
		// No process has the file open in WAL mode: read the file as it is.
		// If a writer starts meanwhile and the read goes wrong, read again with locks.
		paramsList = []string{sqliteImmutableParams, sqliteReadOnlyParams}
	}
	var err error
	for _, params := range paramsList {
		var shape storeShape
		if shape, err = probeSQLiteWith(path, params); err == nil {
			return shape, nil
		}
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
			return storeShape{}, fmt.Errorf("tracker: %s is %w: it is not a SQLite database", path, ErrNotStore)
		}
	}
	return storeShape{}, fmt.Errorf("tracker: open %s: %w", path, err)
}

func probeSQLiteWith(path, params string) (storeShape, error) {
	db, err := sql.Open(driverName, sqliteDSN(path, params))
	if err != nil {
		return storeShape{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return readShape(sqlRunner{context.Background(), sqliteDialect, db})
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

// isDiskFull reports whether err says the disk (or the database's size limit) is full.
func isDiskFull(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}
