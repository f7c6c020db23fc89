package web

import (
	"net/url"
	"testing"

	"github.com/aelab/aelab/tracker"
)

// BenchmarkChartsPage is the charts page of the 10 most recent runs: their curves listed,
// one panel, the metric search's names and the grouping choices.
func BenchmarkChartsPage(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) {
		benchGet(b, srv, "/charts")
	})
}

// BenchmarkChartJSONGrouped is one chart of the 50 most recent runs grouped by model: each
// run's curve and each model's mean with its min–max band.
func BenchmarkChartJSONGrouped(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, store *tracker.Store) {
		recs, err := store.SearchRuns(tracker.Search{Limit: maxChartRuns})
		if err != nil {
			b.Fatal(err)
		}
		q := url.Values{"key": {chartMetric}, "group": {"params.model"}, "run": runIDs(recs)}
		benchGet(b, srv, "/api/series?"+q.Encode())
	})
}

// BenchmarkChartJSONWallClock100k is the 100,000-point curve on the wall-clock axis (the
// values' timestamps read too).
func BenchmarkChartJSONWallClock100k(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, store *tracker.Store) {
		benchGet(b, srv, "/api/series?x=time&key="+benchLongMetric+"&run="+longRun(b, store))
	})
}

// BenchmarkParallelJSON is the parallel coordinates of every run: the first 2,000 of the
// 10,000 on the default axes.
func BenchmarkParallelJSON(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) {
		benchGet(b, srv, "/api/parallel")
	})
}
