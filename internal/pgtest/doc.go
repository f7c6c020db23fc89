// Package pgtest gives tests a throwaway PostgreSQL server of their own: initdb
// into a new temporary folder, a generated password, scram-sha-256 on
// 127.0.0.1, a free port; stopped and deleted afterwards, also when the test
// fails. A server left behind by a test binary that was killed is removed by
// the next one. Never the system cluster.
//
// With CI=true the tests that need it must run (a missing PostgreSQL fails
// them); elsewhere they are skipped, saying why, only when PostgreSQL's
// binaries are absent.
//
//	func TestMain(m *testing.M) { code := m.Run(); pgtest.StopShared(); os.Exit(code) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.Shared(t).NewDatabase(t) // a fresh database on the package's server
//		…
//	}
package pgtest
