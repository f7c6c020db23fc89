package main

import (
	"io"
	"testing"

	"github.com/aelab/aelab/internal/trackerbench"
)

// `aelab runs list --json --limit 0` of the big store (10,000 runs, about 1,000,000 metric rows)
// on both backends: every record with its full history, as JSON (it took 14.9 s on SQLite
// with one history query per run).
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
