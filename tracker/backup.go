package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrBackupPostgres is wrapped by Backup's error for a PostgreSQL store, which
// PostgreSQL's own pg_dump backs up.
var ErrBackupPostgres = errors.New("a PostgreSQL store is backed up with pg_dump")

// Backup writes a copy of the SQLite store to the new file to, through
// SQLite's online backup API: one consistent picture of the store, taken while
// other processes keep reading and writing it, with every committed change,
// including those still in the write-ahead log (aelab.db-wal) that a copy of
// aelab.db alone would miss. A file already at to is never replaced (the error
// wraps fs.ErrExist); the copy is made under a temporary name beside it and
// appears at to only when complete. Artifact files (checkpoints) are not
// part of it. It returns the number of runs in the copy, deleted ones included.
func (s *Store) Backup(ctx context.Context, to string) (int, error) {
	if s.d.name != SQLite {
		return 0, fmt.Errorf("tracker: back up %s: %w", s.path, ErrBackupPostgres)
	}
	if _, err := os.Lstat(to); err == nil {
		return 0, fmt.Errorf("tracker: back up %s: %s: %w", s.path, to, fs.ErrExist)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return 0, fmt.Errorf("tracker: back up %s: %w", s.path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(to), "."+filepath.Base(to)+".*")
	if err != nil {
		return 0, fmt.Errorf("tracker: back up %s: %w", s.path, err)
	}
	tmp.Close()
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(tmp.Name() + suffix)
		}
	}()
	runs, err := s.backupTo(ctx, tmp.Name())
	if err != nil {
		return 0, fmt.Errorf("tracker: back up %s to %s: %w", s.path, to, err)
	}
	// A link, unlike a rename, fails when to has appeared meanwhile.
	if err := os.Link(tmp.Name(), to); err != nil {
		return 0, fmt.Errorf("tracker: back up %s: %w", s.path, err)
	}
	return runs, nil
}

// backupTo copies the store into the SQLite file at path (empty or new), from a
// connection of the read pool, in one step: one read transaction, which in WAL
// mode holds up no writer. It returns the number of runs in the copy.
func (s *Store) backupTo(ctx context.Context, path string) (int, error) {
	src, err := s.r.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dstDB, err := sql.Open(driverName, sqliteDSN(path, ""))
	if err != nil {
		return 0, err
	}
	defer dstDB.Close()
	dst, err := dstDB.Conn(ctx)
	if err != nil {
		return 0, err
	}
	err = dst.Raw(func(dc any) error {
		return src.Raw(func(sc any) error {
			d, ok1 := dc.(*sqlite3.SQLiteConn)
			sr, ok2 := sc.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return fmt.Errorf("not SQLite connections: %T, %T", dc, sc)
			}
			b, err := d.Backup("main", sr, "main")
			if err != nil {
				return err
			}
			for {
				done, err := b.Step(-1)
				if err != nil || done {
					return errors.Join(err, b.Finish())
				}
				// The source was locked (a checkpoint, say): try again shortly.
				select {
				case <-ctx.Done():
					return errors.Join(ctx.Err(), b.Finish())
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
	})
	var runs int
	if err == nil {
		err = dst.QueryRowContext(ctx, `SELECT count(*) FROM runs`).Scan(&runs)
	}
	return runs, errors.Join(err, dst.Close(), dstDB.Close())
}
