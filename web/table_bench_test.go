package web

import (
	"net/http"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// BenchmarkRunsGrouped is the runs table grouped by model over the big store's 10,000 runs
// (every run read with the default columns and summed up by group), asked again while the
// store does not change: the groups are kept.
func BenchmarkRunsGrouped(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchGet(b, srv, "/runs/table?group=params.model") })
}

// BenchmarkRunsGroupedCold is the same without the kept groups: a new server each time, as
// after a change to the store.
func BenchmarkRunsGroupedCold(b *testing.B) {
	onBothStores(b, func(b *testing.B, _ *Server, store *tracker.Store) {
		for b.Loop() {
			srv, err := New(store, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if res := do(b, srv.Handler(), "GET", "/runs/table?group=params.model", nil); res.StatusCode != http.StatusOK {
				b.Fatalf("%d", res.StatusCode)
			}
		}
	})
}

// BenchmarkRunsExportCSV downloads all 10,000 runs with the default columns as CSV.
func BenchmarkRunsExportCSV(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchGet(b, srv, "/runs/export?format=csv") })
}

// BenchmarkRunsExportJSON downloads all 10,000 runs with the default columns as JSON.
func BenchmarkRunsExportJSON(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchGet(b, srv, "/runs/export?format=json") })
}
