package tracker

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CurrentSchemaVersion is the newest store schema this code knows.
const CurrentSchemaVersion = 7

// The migrations are SQL files, one per schema version and dialect:
// migrations/sqlite/0001.sql takes a SQLite store from version 0 to 1, and
// migrations/postgres/0001.sql is the same step in PostgreSQL's words (BIGINT
// milliseconds, DOUBLE PRECISION values, identity columns, text in the "C"
// collation so that it compares and orders bytewise as SQLite does, an id
// column for the metrics' insertion order where SQLite has its rowid, and
// aelab_num, numberPattern as a SQL function). A shipped migration never
// changes: migrations/checksums.txt records each file's SHA-256, only grows,
// and TestMigrationChecksums holds the files to it.
//
// The steps: 1 the MLflow-like tables; 2 heartbeats (so dead runs can be told
// from live ones) and artifact descriptions; 3 the last buffered write of a
// run that reached the store (logged_seq), so a write retried after a lost
// connection is not applied twice; 4 indexes for filters on params and tags;
// 5 the sweeps table; 6 each run's revision, a counter the database raises by
// triggers whenever the run's name, status, error, end or deletion changes or
// one of its tags, params or latest metrics is written or removed (Version
// sums them, so a live view sees every change for the cost of reading one
// column; heartbeats and logged_seq leave it alone; PostgreSQL's triggers on
// the child tables fire once a statement); 7 copy_marks, what runs push/pull
// last copied into the store (copy_marks.go).

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

var (
	sqliteMigrations   = mustMigrations("sqlite")
	postgresMigrations = mustMigrations("postgres")
)

// migrationPath is the file of the migration to version v in dialect's folder.
func migrationPath(dialect string, v int) string {
	return fmt.Sprintf("migrations/%s/%04d.sql", dialect, v)
}

// mustMigrations reads dialect's migrations, 1 to CurrentSchemaVersion: the
// element i takes a store from version i to i+1. A missing file is a broken
// build, so it panics.
func mustMigrations(dialect string) []string {
	out := make([]string, CurrentSchemaVersion)
	for v := 1; v <= CurrentSchemaVersion; v++ {
		b, err := migrationFiles.ReadFile(migrationPath(dialect, v))
		if err != nil {
			panic(fmt.Sprintf("tracker: migration %d for %s: %v", v, dialect, err))
		}
		out[v-1] = string(b)
	}
	return out
}

// schemaVersionDDL makes the version table, before the first migration.
const schemaVersionDDL = `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied BIGINT NOT NULL)`

// readVersion returns the schema version of the store (0 for an empty database).
func readVersion(q sqlRunner) (int, error) {
	var n int
	if err := q.queryRow(q.d.tableExists, "schema_version").Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	err := q.queryRow(`SELECT max(version) FROM schema_version`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || !v.Valid {
		return 0, nil
	}
	return int(v.Int64), err
}

// storeShape is what a database holds, read before anything writes to it.
type storeShape struct {
	tables  []string // every table, by name
	marker  bool     // it has aelab's schema_version table
	version int      // the schema version, when marked
}

// markerColumns are the columns of aelab's schema_version table: its presence
// is what makes a database an aelab store (other programs' tables beside it,
// such as River's job queue, are allowed).
var markerColumns = []string{"applied", "version"}

// readShape reads the tables of the database q and, when it is marked as a
// store, its schema version. It only reads.
func readShape(q sqlRunner) (storeShape, error) {
	var sh storeShape
	var err error
	if sh.tables, err = q.strings(q.d.tables); err != nil {
		return sh, err
	}
	if !slices.Contains(sh.tables, "schema_version") {
		return sh, nil
	}
	cols, err := q.strings(q.d.columns, "schema_version")
	if err != nil || !slices.Equal(cols, markerColumns) {
		return sh, err
	}
	sh.marker = true
	sh.version, err = readVersion(q)
	return sh, err
}

// foreign lists the tables that are not River's (its job queue may be set up
// in a database before the store is).
func (sh storeShape) foreign() []string {
	var out []string
	for _, t := range sh.tables {
		if !strings.HasPrefix(t, "river_") {
			out = append(out, t)
		}
	}
	return out
}

// check says whether a database of this shape may be opened as o asks (target
// is the schema version the open migrates to). A database without the marker
// is another program's unless it has no tables at all, which only writing opens
// adopt.
func (sh storeShape) check(path string, o Options, target int) error {
	switch {
	case !sh.marker && len(sh.foreign()) > 0:
		shown := sh.foreign()
		more := ""
		if len(shown) > 6 {
			shown, more = shown[:6], ", …"
		}
		return fmt.Errorf("tracker: %s is %w: it has tables %s%s", path, ErrNotStore, strings.Join(shown, ", "), more)
	case !sh.marker:
		if o.ReadOnly || o.MustExist {
			return fmt.Errorf("%w at %s: the database is empty (nothing tracked there yet)", ErrNoStore, path)
		}
	case sh.version > CurrentSchemaVersion:
		return newerError(path, sh.version)
	case o.ReadOnly && sh.version < target:
		return fmt.Errorf("tracker: store %s has schema version %d and this aelab reads version %d; "+
			"aelab db migrate (or any command that writes) upgrades it", path, sh.version, target)
	}
	return nil
}

func newerError(path string, v int) error {
	return fmt.Errorf("tracker: store %s has schema version %d, this aelab knows up to %d; %w",
		path, v, CurrentSchemaVersion, ErrNewerSchema)
}

// migrate brings the store at db to version target. The version is read again
// inside the migration transaction, which holds the database's write lock
// (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so
// of several processes opening a new store at once one creates the schema and
// the others find it done.
func migrate(db *sql.DB, d *dialect, path string, target int) error {
	ctx := context.Background()
	// upToDate reads the version; done when nothing is left to migrate (or on error).
	upToDate := func(q sqlRunner) (v int, done bool, err error) {
		if v, err = readVersion(q); err != nil {
			return v, true, fmt.Errorf("tracker: open %s: reading schema version: %w", path, err)
		}
		if v > CurrentSchemaVersion {
			return v, true, newerError(path, v)
		}
		return v, v >= target, nil
	}
	// Checked first without the write lock: opening an up-to-date store takes no lock.
	if _, done, err := upToDate(sqlRunner{ctx, d, db}); done {
		return err
	}
	sqlTx, err := db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE (the writer's _txlock)
	if err != nil {
		return fmt.Errorf("tracker: open %s: migrating: %w", path, err)
	}
	defer sqlTx.Rollback()
	tx := sqlRunner{ctx, d, sqlTx}
	if d.lock != "" {
		if _, err := tx.exec(d.lock); err != nil {
			return fmt.Errorf("tracker: open %s: migrating: %w", path, err)
		}
	}
	v, done, err := upToDate(tx)
	if done {
		return err
	}
	if _, err := tx.exec(schemaVersionDDL); err != nil {
		return fmt.Errorf("tracker: open %s: %w", path, err)
	}
	for next := v + 1; next <= target; next++ {
		// Raw: migrations are DDL, with no placeholders to rebind.
		if _, err := sqlTx.ExecContext(ctx, d.migrations[next-1]); err != nil {
			return fmt.Errorf("tracker: open %s: migrating schema to version %d: %w", path, next, err)
		}
		if _, err := tx.exec(`INSERT INTO schema_version(version, applied) VALUES (?, ?)`, next, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("tracker: open %s: %w", path, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("tracker: open %s: migrating: %w", path, err)
	}
	return nil
}
