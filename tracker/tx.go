package tracker

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
)

// writeTx runs fn in one write transaction (SQLite: BEGIN IMMEDIATE on the
// writer connection), committed when fn returns nil.
func (s *Store) writeTx(fn func(tx sqlRunner) error) error {
	return s.writeTxContext(context.Background(), fn)
}

func (s *Store) writeTxContext(ctx context.Context, fn func(tx sqlRunner) error) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error { return fn(sqlRunner{ctx, s.d, tx}) })
}

// WriteTx runs fn inside one write transaction of the store: committed when fn
// returns nil, rolled back otherwise. It is how a component that keeps tables
// in the store's database (sweeps: River's job queue) writes atomically with
// the tracker. fn's SQL goes to the database as written; Rebind turns ?
// placeholders into the dialect's.
func (s *Store) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return scrub(err, s.secret)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return scrub(tx.Commit(), s.secret)
}

// Rebind rewrites the ? placeholders of query for the store's database ($1,
// $2, … on PostgreSQL; unchanged on SQLite).
func (s *Store) Rebind(query string) string { return s.d.rebind(query) }

// OpenDB opens a new connection pool to the store's database, for a component
// that keeps its own tables there (River's job queue): the same SQLite file,
// with the writer's settings (WAL, busy timeout, foreign keys), or the same
// PostgreSQL server, database, user and password, which never pass through a
// string. The pool of a read-only store is read-only. The caller closes it.
func (s *Store) OpenDB() (*sql.DB, error) {
	if s.pgConfig != nil {
		return stdlib.OpenDB(*s.pgConfig.Copy()), nil
	}
	params := sqliteWriterParams
	if s.readOnly {
		params = sqliteReadOnlyParams
	}
	db, err := sql.Open(driverName, sqliteDSN(s.path, params))
	if err != nil {
		return nil, fmt.Errorf("tracker: open %s: %w", s.path, err)
	}
	return db, nil
}
