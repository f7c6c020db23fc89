package trackerbench

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/tracker"
	"github.com/aelab/aelab/tracker/query"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// backends are the two stores of the benchmarks, by name.
var backends = []struct {
	name string
	big  func(testing.TB) string // the big store
	new  func(testing.TB) string // a new, empty one
}{
	{"sqlite", SQLite, func(b testing.TB) string { return filepath.Join(b.TempDir(), "aelab.db") }},
	{"postgres", Postgres, func(b testing.TB) string { return pgtest.Shared(b).NewDatabase(b) }},
}

func open(b *testing.B, location string, o tracker.Options) *tracker.Store {
	b.Helper()
	s, err := tracker.OpenWith(location, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// Logging one epoch's metrics, as the runner does at each epoch's end.
func BenchmarkLogEpoch(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := open(b, be.new(b), tracker.Options{})
			run, err := s.StartRun(tracker.RunSpec{Name: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			epoch := 0
			for b.Loop() {
				epoch++
				if err := experiments.LogEpoch(run, Epoch(epoch, 0.1, rng)); err != nil {
					b.Fatal(err)
				}
			}
			run.Finish(tracker.StatusFinished, "")
		})
	}
}

// A filtered, ordered search of the big store (828 runs match): "table" loads what
// `aelab runs list --where …` shows of each run (its runsTableColumns), "records"
// the full records (a notebook's SearchRuns).
func BenchmarkSearchFilter(b *testing.B) {
	table := []query.Field{{Kind: query.FieldParam, Key: "model"}, {Kind: query.FieldParam, Key: "epochs"},
		{Kind: query.FieldMetric, Key: experiments.ValBCE.Name}, {Kind: query.FieldMetric, Key: experiments.ValMSE.Name}}
	for _, be := range backends {
		for _, load := range []struct {
			name    string
			columns []query.Field
		}{{"table", table}, {"records", nil}} {
			b.Run(be.name+"/"+load.name, func(b *testing.B) {
				s := open(b, be.big(b), tracker.Options{ReadOnly: true})
				q := tracker.Search{Filter: `params.model = "deep" and metrics.val_bce < 0.25 and params.seed >= 5000`,
					OrderBy: "metrics.val_bce asc", Columns: load.columns}
				var n int
				for b.Loop() {
					runs, err := s.SearchRuns(q)
					if err != nil {
						b.Fatal(err)
					}
					n = len(runs)
				}
				b.ReportMetric(float64(n), "runs")
			})
		}
	}
}

// Every run of the big store with its full history, as tracker.EachRun reads them (what
// runs list --json reads; cmd/aelab's BenchmarkRunsListJSON adds the JSON).
func BenchmarkAllHistories(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := open(b, be.big(b), tracker.Options{ReadOnly: true})
			var runs, points int
			for b.Loop() {
				runs, points = 0, 0
				err := s.EachRun(tracker.Search{Columns: []query.Field{{Kind: query.FieldParam}, {Kind: query.FieldTag}}},
					func(_ *tracker.RunRecord, h *tracker.History) error {
						runs++
						points += len(h.Steps)
						return nil
					})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(runs), "runs")
			b.ReportMetric(float64(points), "points")
		})
	}
}

// `aelab runs push` of 1,000 runs (with about 100,000 metric rows) from the big SQLite store
// into a new store.
func BenchmarkPush1000(b *testing.B) {
	src := open(b, SQLite(b), tracker.Options{ReadOnly: true})
	for _, be := range backends {
		b.Run("sqlite-to-"+be.name, func(b *testing.B) {
			var st tracker.CopyStats
			for b.Loop() {
				b.StopTimer()
				dst := open(b, be.new(b), tracker.Options{ArtifactRoot: b.TempDir()})
				b.StartTimer()
				var err error
				if st, err = tracker.Copy(context.Background(), dst, src, tracker.CopyOptions{Filter: "params.seed < 1000"}); err != nil {
					b.Fatal(err)
				}
			}
			if st.Copied != 1000 {
				b.Fatalf("copied %+v", st)
			}
			b.ReportMetric(float64(st.Metrics), "rows")
		})
	}
}
