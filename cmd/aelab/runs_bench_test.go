package main

import (
	"io"
	"testing"

	"github.com/aelab/aelab/internal/trackerbench"
)

// `aelab runs list --json --limit 0` of the big store (10,000 runs, about 1,000,000 metric rows,
// 170 MB of JSON) on both backends: every record with its full history. It took 14.9 s on
// SQLite with one history query per run, 3.4–8.3 s (SQLite) and 5.5–7.8 s (PostgreSQL) with
// histories in batches and encoding/json; tracker.EachRun and the hand-written JSON take it
// under a second (see the commit that says so for the machine and its load).
func BenchmarkRunsListJSON(b *testing.B) {
	for _, be := range []struct {
		name  string
		store func(testing.TB) string
	}{{"sqlite", trackerbench.SQLite}, {"postgres", trackerbench.Postgres}} {
		b.Run(be.name, func(b *testing.B) {
			db := be.store(b)
			for b.Loop() {
				if code := runMain([]string{"runs", "list", "--json", "--limit", "0", "--db", db}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
