package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CurrentSchemaVersion is the newest store schema this code knows.
const CurrentSchemaVersion = 6

// sqliteMigrations[i] takes a SQLite store from version i to version i+1
// (postgresMigrations are the same steps in PostgreSQL's words). Append only:
// never edit a migration that has shipped.
var sqliteMigrations = []string{
	// 0 → 1: the MLflow-like tables.
	`
CREATE TABLE experiments (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL              -- Unix ms
);
CREATE TABLE runs (
	id            TEXT PRIMARY KEY,       -- UUID
	experiment_id INTEGER NOT NULL REFERENCES experiments(id),
	name          TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	start_time    INTEGER NOT NULL,       -- Unix ms
	end_time      INTEGER,                -- Unix ms, NULL while running
	source        TEXT NOT NULL DEFAULT '',
	error         TEXT NOT NULL DEFAULT '',
	config        TEXT,                   -- JSON
	owner_pid     INTEGER NOT NULL DEFAULT 0,
	owner_host    TEXT NOT NULL DEFAULT '',
	deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_experiment ON runs(experiment_id, start_time);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE params (
	run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE TABLE tags (
	run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE TABLE metrics (
	run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key       TEXT NOT NULL,
	step      INTEGER NOT NULL,
	epoch     INTEGER NOT NULL,
	value     REAL,                       -- NULL stands for NaN
	timestamp INTEGER NOT NULL            -- Unix ms
);
CREATE INDEX metrics_run_key ON metrics(run_id, key, step);
CREATE TABLE latest_metrics (
	run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key       TEXT NOT NULL,
	step      INTEGER NOT NULL,
	epoch     INTEGER NOT NULL,
	value     REAL,
	timestamp INTEGER NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE INDEX latest_metrics_key ON latest_metrics(key, value);
CREATE TABLE artifacts (
	id      INTEGER PRIMARY KEY,
	run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	path    TEXT NOT NULL,
	created INTEGER NOT NULL
);
CREATE INDEX artifacts_run ON artifacts(run_id);
`,
	// 1 → 2: heartbeats (so dead runs can be told from live ones) and artifact descriptions.
	`
ALTER TABLE runs ADD COLUMN heartbeat INTEGER;           -- Unix ms
ALTER TABLE runs ADD COLUMN heartbeat_interval INTEGER;  -- ms
UPDATE runs SET heartbeat = COALESCE(end_time, start_time);
ALTER TABLE artifacts ADD COLUMN description TEXT NOT NULL DEFAULT '';
`,
	// 2 → 3: the last buffered write of a run that reached the store, so that a
	// write retried after a lost connection is not applied twice.
	`
ALTER TABLE runs ADD COLUMN logged_seq INTEGER NOT NULL DEFAULT 0;
`,
	// 3 → 4: filters on a param or tag find its runs through an index (10,000 runs
	// hold 150,000 params) instead of reading them all.
	`
CREATE INDEX params_key ON params(key, value);
CREATE INDEX tags_key ON tags(key, value);
`,
	// 4 → 5: hyperparameter sweeps (sweeps.go).
	sweepsMigration,
	// 5 → 6: each run's revision, raised by the database on every change (revision.go).
	revisionMigration,
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
		if _, err := tx.exec(`INSERT INTO schema_version(version, applied) VALUES (?, ?)`, next, nowMS()); err != nil {
			return fmt.Errorf("tracker: open %s: %w", path, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("tracker: open %s: migrating: %w", path, err)
	}
	return nil
}
