package tracker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgPoolSize is how many connections a store keeps to a PostgreSQL server.
const pgPoolSize = 8

// pgConnectTimeout bounds a connection attempt when the URL sets none, so that
// an unreachable server is an error, not a hang.
const pgConnectTimeout = 10 * time.Second

// openPostgres opens the store in the PostgreSQL database at location (a
// postgres:// URL; libpq's PG* variables, ~/.pgpass or PGPASSFILE and sslmode
// are honoured, as pgx reads them) and, unless read-only, migrates it to
// version target.
func openPostgres(location string, o Options, target int) (*Store, error) {
	where := RedactURL(location)
	cfg, err := pgx.ParseConfig(location)
	if err != nil {
		return nil, scrub(fmt.Errorf("tracker: open %s: %w", where, err), "")
	}
	secret := cfg.Password
	fail := func(err error) error { return scrub(fmt.Errorf("tracker: open %s: %w", where, err), secret) }
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	cfg.RuntimeParams["application_name"] = "aelab"
	// A filter with many subqueries looks costly to the planner, which then
	// JIT-compiles each of them: 30–80 ms apiece, for a query that runs in
	// milliseconds without.
	cfg.RuntimeParams["jit"] = "off"
	if o.ReadOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgPoolSize)
	db.SetMaxIdleConns(pgPoolSize)
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name
			if o.ReadOnly || o.MustExist {
				return nil, fmt.Errorf("%w at %s: database %q does not exist", ErrNoStore, where, cfg.Database)
			}
			return nil, fmt.Errorf("tracker: open %s: database %q does not exist on the server (create it: createdb %s)", where, cfg.Database, cfg.Database)
		}
		return nil, fail(err)
	}
	shape, err := readShape(sqlRunner{ctx, postgresDialect, db})
	if err != nil {
		db.Close()
		return nil, fail(err)
	}
	if err := shape.check(where, o, target); err != nil {
		db.Close()
		return nil, err
	}
	if !o.ReadOnly {
		if err := migrate(db, postgresDialect, where, target); err != nil {
			db.Close()
			return nil, scrub(err, secret)
		}
	}
	s := newStore(where, postgresDialect, o.ReadOnly, db, db)
	s.secret, s.pgConfig = secret, cfg
	return s, nil
}
