// Package pglocal runs a PostgreSQL server of aelab's own in a folder: initdb
// with a generated password (scram-sha-256), the server on a loopback port with
// its socket in the same folder, pg_ctl to start, restart and stop it. It never
// touches a system cluster. As root the server runs as the unprivileged
// "postgres" user, as PostgreSQL requires.
//
// A test can put the server on another "host" (Config.NetNS): inside a network namespace,
// listening on an address there (Config.Listen).
//
// `aelab db start` keeps one for users; internal/pgtest makes throwaway ones for
// tests. The binaries come from $AELAB_PG_BIN, Debian's
// /usr/lib/postgresql/VERSION/bin (package postgresql, which `make setup`
// installs), or initdb on PATH.
package pglocal
