package main

import (
	"net/url"
	"testing"

	"github.com/aelab/aelab/internal/pgtest"
)

// TestSweepAcrossHosts is the sweep as a cluster sees it: PostgreSQL in network namespace
// db, listening on its veth address; two workers in namespaces w1 and w2, connecting over
// theirs; the sweep created from the root namespace. One worker is killed with SIGKILL in the
// middle of a trial: every trial still ends exactly once FINISHED (the killed one LOST plus a
// FINISHED retry on the other worker), no trial runs on two workers at once, and the report
// lists them all. The namespaces, their links and the server are removed afterwards, also on
// failure.
func TestSweepAcrossHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server and trains in child processes for about a minute")
	}
	netnsUnavailable(t)
	hosts := newNetHosts(t, "db", "w1", "w2")
	srv := pgtest.NewOn(t, pgtest.Network{Listen: hosts.addr["db"], NetNS: hosts.ns["db"]})
	u, err := url.Parse(srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	// The password travels as libpq's PGPASSWORD, not on command lines.
	pw, _ := u.User.Password()
	t.Setenv("PGPASSWORD", pw)
	u.User = url.User(u.User.Username())
	killScenario(t, u.String(), hosts.exec("w1"), hosts.exec("w2"))
}
