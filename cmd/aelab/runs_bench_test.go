package main

import (
	"io"
	"testing"

	"github.com/aelab/aelab/internal/trackerbench"
)

// `aelab runs list --json --limit 0` of the big store (10,000 runs, 1,011,669 metric rows,
// 170 MB of JSON) on both backends: every record with its full history. It took 14.9 s on
// SQLite with one history query per run. The aelab binary, on the 2-core VM at a load of
// 6.3–7.6: 5.0–6.3 s (SQLite) and 5.7–6.0 s (PostgreSQL) with histories in batches and
// encoding/json; 1.8–2.2 s on both with tracker.EachRun and the hand-written JSON.
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
