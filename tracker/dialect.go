package tracker

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Dialect names the database a store lives in.
type Dialect string

const (
	SQLite   Dialect = "sqlite"   // a file: the embedded default
	Postgres Dialect = "postgres" // a server: the store several machines share
)

// dialect is what differs between the two databases. The rest of tracker is
// written once, in the SQL both understand, with ? placeholders.
type dialect struct {
	name       Dialect
	migrations []string // migrations[i] takes the schema from version i to i+1
	numbered   bool     // placeholders are $1, $2, … (rebind rewrites ?)
	// rowOrder orders metric rows logged at the same step and time as inserted.
	rowOrder string
	// tableExists counts the tables named ?; tables lists the store's tables by
	// name and columns the columns of table ? by name.
	tableExists, tables, columns string
	// lock, run first in the migration transaction, makes concurrent
	// migrations wait for each other (SQLite's BEGIN IMMEDIATE already does).
	lock string
	// filterOpen and filterClose enclose a search's filter. PostgreSQL turns
	// EXISTS subqueries at the top of a WHERE into joins and then searches
	// the join orders: 1 s for an and of 50 key tests, 54 s for 200 (measured
	// on PostgreSQL 15, 2 cores). Inside "(…) IS TRUE" they stay subqueries,
	// each an index lookup per run: 3 ms and 8 ms.
	filterOpen, filterClose string
	// batchReadHint, run first in the read transaction of a batch of runs (EachRun), makes
	// the planner look its 500 runs up by index. Without statistics (a store just copied in,
	// not yet analyzed) PostgreSQL guessed the rows of 500 runs were most of each table and
	// scanned all of it, for every batch: the metrics table's million rows, 120 of each
	// batch's 150 ms. The batch's queries all have their index.
	batchReadHint string
}

var sqliteDialect = &dialect{
	name: SQLite, migrations: sqliteMigrations, rowOrder: "rowid",
	tableExists: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
	tables:      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`,
	columns:     `SELECT name FROM pragma_table_info(?) ORDER BY name`,
}

var postgresDialect = &dialect{
	name: Postgres, migrations: postgresMigrations, numbered: true, rowOrder: "id",
	tableExists: `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`,
	tables: `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
	columns: `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? ORDER BY column_name`,
	// One key for aelab's schema, hashed from its name; held to the transaction's end.
	lock:       `SELECT pg_advisory_xact_lock(hashtext('aelab tracker schema'))`,
	filterOpen: "(", filterClose: ") IS TRUE",
	batchReadHint: "SET LOCAL enable_seqscan = off",
}

// likeOp is the operator for a filter's like (case-insensitive for ASCII, no
// escape character), with the clause that follows the pattern: SQLite's LIKE is
// that; PostgreSQL's ILIKE on "C"-collated text folds ASCII only, and
// ESCAPE ” turns off its default backslash escape.
func (d *dialect) likeOp() (op, after string) {
	if d.name == Postgres {
		return " ILIKE ", " ESCAPE ''"
	}
	return " LIKE ", ""
}

// rebind rewrites the ? placeholders of q as $1, $2, … where the dialect
// numbers them. Question marks inside quoted strings and identifiers stay.
func (d *dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sqlRunner runs tracker SQL on a *sql.DB or *sql.Tx, rebinding its placeholders.
type sqlRunner struct {
	ctx context.Context
	d   *dialect
	q   interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}
}

func (r sqlRunner) exec(q string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(r.ctx, r.d.rebind(q), args...)
}

func (r sqlRunner) query(q string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(r.ctx, r.d.rebind(q), args...)
}

func (r sqlRunner) queryRow(q string, args ...any) *sql.Row {
	return r.q.QueryRowContext(r.ctx, r.d.rebind(q), args...)
}

// strings reads one text column of every row of q.
func (r sqlRunner) strings(q string, args ...any) ([]string, error) {
	rows, err := r.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
