package web

// Benchmarks of the UI on a big store: 10,000 runs and 1,050,000 metric rows, one run holding
// a 100,000-point curve, on SQLite and on PostgreSQL. The SQLite store is written through the
// tracker API (the path real runs take) once and kept in build/uibench/, so later benchmark
// runs start at once; the PostgreSQL one is a copy of it (tracker.Copy) on the test binary's
// own server.
//
//	go test -tags onnx ./web -run '^$' -bench . -benchtime 20x

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/internal/trackerbench"
	"github.com/aelab/aelab/tracker"
)

// The big store's shape.
const (
	benchRuns      = 10000
	benchEpochs    = 11
	benchLongSteps = 100000
	benchLongName  = "long-curve"
	benchStoreFile = "store-v3.db" // change the name when the shape changes
)

// benchLongMetric is the long run's curve: its process's CPU share, as the system monitor logs it.
var benchLongMetric = experiments.SystemCPU.Name

var benchStore struct {
	once sync.Once
	path string
	err  error
}

// bigStore returns the path of the big store, writing it first if build/uibench lacks it
// (about a minute or two on a 2-core machine).
func bigStore(b *testing.B) string {
	benchStore.once.Do(func() {
		dir, err := filepath.Abs(filepath.Join("..", "build", "uibench"))
		if err != nil {
			benchStore.err = err
			return
		}
		benchStore.path = filepath.Join(dir, benchStoreFile)
		if _, err := os.Stat(benchStore.path); err == nil {
			// Written by an older aelab, maybe: migrated here, since the copy into
			// PostgreSQL opens it read-only.
			s, err := tracker.OpenExisting(benchStore.path)
			if err == nil {
				err = s.Close()
			}
			benchStore.err = err
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			benchStore.err = err
			return
		}
		tmp, err := os.MkdirTemp(dir, "writing-")
		if err != nil {
			benchStore.err = err
			return
		}
		defer os.RemoveAll(tmp) // what the store keeps beside its file
		b.Logf("writing the benchmark store %s through the tracker API (once)", benchStore.path)
		if err := writeBigStore(filepath.Join(tmp, benchStoreFile)); err != nil {
			benchStore.err = err
			return
		}
		benchStore.err = os.Rename(filepath.Join(tmp, benchStoreFile), benchStore.path)
	})
	if benchStore.err != nil {
		b.Fatal(benchStore.err)
	}
	return benchStore.path
}

// writeBigStore logs benchRuns-1 runs the way experiments.Run logs a training, through the
// schema's own logging functions (config, params, environment tags, every epoch's metrics, the
// final evaluation, sizes and timings: about 95 rows a run), and one run whose process monitor
// logged benchLongSteps samples of its CPU share: about 1,050,000 metric rows in all.
func writeBigStore(path string) error {
	store, err := tracker.Open(path)
	if err != nil {
		return err
	}
	defer store.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	models, err := trackerbench.Models()
	if err != nil {
		return err
	}
	for i := range benchRuns - 1 {
		if err := trackerbench.LogRun(store, models[i%len(models)], i, benchEpochs, rng); err != nil {
			return err
		}
	}
	run, err := store.StartRun(tracker.RunSpec{Experiment: "bench-long", Name: benchLongName, Params: map[string]string{"model": "vanilla"}})
	if err != nil {
		return err
	}
	for step := range benchLongSteps {
		v := 100 * (0.6 + 0.3*math.Exp(-float64(step)/20000) + 0.05*rng.NormFloat64())
		if err := experiments.LogSample(run, map[string]float64{benchLongMetric: v}, int64(step), step/1000+1); err != nil {
			return err
		}
	}
	return run.Finish(tracker.StatusFinished, "")
}

var benchPostgres struct {
	once sync.Once
	url  string
	err  error
}

// bigPostgres returns the URL of the big store copied into a database of the test binary's
// PostgreSQL server (tracker.Copy, at the first call).
func bigPostgres(b *testing.B) string {
	src := bigStore(b)
	srv := pgtest.Shared(b)
	benchPostgres.once.Do(func() {
		benchPostgres.url = srv.NewDatabase(b)
		from, err := tracker.OpenReadOnly(src)
		if err != nil {
			benchPostgres.err = err
			return
		}
		defer from.Close()
		to, err := tracker.OpenWith(benchPostgres.url, tracker.Options{ArtifactRoot: filepath.Dir(src)})
		if err != nil {
			benchPostgres.err = err
			return
		}
		defer to.Close()
		b.Logf("copying the benchmark store into PostgreSQL")
		_, benchPostgres.err = tracker.Copy(context.Background(), to, from, tracker.CopyOptions{BatchSize: 500})
	})
	if benchPostgres.err != nil {
		b.Fatal(benchPostgres.err)
	}
	return benchPostgres.url
}

// onBothStores runs bench on a server over the big store on SQLite, then on PostgreSQL.
func onBothStores(b *testing.B, bench func(b *testing.B, srv *Server, store *tracker.Store)) {
	for _, backend := range []struct {
		name     string
		location func(*testing.B) string
	}{{"sqlite", bigStore}, {"postgres", bigPostgres}} {
		b.Run(backend.name, func(b *testing.B) {
			store, err := tracker.OpenWith(backend.location(b), tracker.Options{MustExist: true, ArtifactRoot: filepath.Dir(bigStore(b))})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			srv, err := New(store, Options{})
			if err != nil {
				b.Fatal(err)
			}
			bench(b, srv, store)
		})
	}
}

// longRun is the id of the run with the 100,000-point curve.
func longRun(b *testing.B, store *tracker.Store) string {
	rec, err := store.LatestRun(tracker.Search{Filter: `attributes.name = "` + benchLongName + `"`})
	if err != nil {
		b.Fatal(err)
	}
	return rec.ID
}

// benchGet times GET target on the server, failing on anything but 200.
func benchGet(b *testing.B, srv *Server, target string) {
	h := srv.Handler()
	var bytes int
	for b.Loop() {
		res := do(b, h, "GET", target, nil)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %s", target, res.StatusCode, readBody(b, res))
		}
		bytes = len(readBody(b, res))
	}
	b.ReportMetric(float64(bytes)/1024, "KiB/page")
}

// BenchmarkRunsPage is the first page a browser gets: the runs page's HTML with its first 50
// runs, the default columns and the column chooser of every key.
func BenchmarkRunsPage(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchGet(b, srv, "/") })
}

// BenchmarkRunsJSON is one page of runs as JSON, newest first (the API and the table's refresh).
func BenchmarkRunsJSON(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchGet(b, srv, "/api/runs?limit=50") })
}

// BenchmarkRunsJSONFilteredSorted filters on a param and orders by a metric over 10,000 runs.
func BenchmarkRunsJSONFilteredSorted(b *testing.B) {
	q := url.Values{"q": {`params.model = "deep" or params.learning_rate = "0.002"`}, "order": {"metrics." + chartMetric + " asc"}, "limit": {"50"}}
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchGet(b, srv, "/api/runs?"+q.Encode()) })
}

// BenchmarkRunsJSONLastPage is the last page (OFFSET 9,950).
func BenchmarkRunsJSONLastPage(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) {
		benchGet(b, srv, fmt.Sprintf("/api/runs?limit=50&offset=%d", benchRuns-50))
	})
}

// BenchmarkChartJSON100k is one chart of the run with a 100,000-point curve: read, LTTB to
// 2,000 points, JSON.
func BenchmarkChartJSON100k(b *testing.B) {
	onBothStores(b, func(b *testing.B, srv *Server, store *tracker.Store) {
		benchGet(b, srv, "/api/series?key="+benchLongMetric+"&run="+longRun(b, store))
	})
}

// BenchmarkServerMemory serves the runs page, a sorted page and the 100,000-point chart and
// reports the server's memory: Go heap in use after a collection, and the process's peak RSS
// (VmHWM; it includes the test binary and, on a first run, writing the store).
func BenchmarkServerMemory(b *testing.B) {
	onBothStores(b, benchMemory)
}

func benchMemory(b *testing.B, srv *Server, store *tracker.Store) {
	long := longRun(b, store)
	h := srv.Handler()
	for b.Loop() {
		for _, target := range []string{"/", "/api/runs?order=metrics.val_bce+asc", "/api/series?key=" + benchLongMetric + "&run=" + long} {
			if res := do(b, h, "GET", target, nil); res.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d", target, res.StatusCode)
			}
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap")
	b.ReportMetric(peakRSS()/(1<<20), "MiB-peak-RSS")
}

// peakRSS is the process's peak resident set (bytes), from /proc (0 elsewhere).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkRunsPageFirstPaint loads the runs page in Chromium (scripts/browser/paint.mjs) and
// times navigation to the load event; it reports the median first contentful paint. It needs
// node, playwright-core and Chromium (make setup), else it is skipped.
func BenchmarkRunsPageFirstPaint(b *testing.B) {
	root, _ := filepath.Abs("..")
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node not found")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "playwright-core")); err != nil {
		b.Skip("playwright-core not installed (make setup)")
	}
	onBothStores(b, func(b *testing.B, srv *Server, _ *tracker.Store) { benchFirstPaint(b, srv, node, root) })
}

func benchFirstPaint(b *testing.B, srv *Server, node, root string) {
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	cmd := exec.Command(node, filepath.Join(root, "scripts", "browser", "paint.mjs"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { in.Close(); cmd.Wait() }()
	answers := bufio.NewScanner(out)
	load := func() (fcp float64) {
		fmt.Fprintln(in, ts.URL+"/")
		if !answers.Scan() {
			b.Fatal("paint.mjs stopped")
		}
		var a struct {
			FCP, Load float64
			Rows      int
			Error     string
		}
		if err := json.Unmarshal(answers.Bytes(), &a); err != nil || a.Error != "" || a.Rows != defaultPageSize {
			b.Fatalf("paint.mjs: %s (%v)", answers.Text(), err)
		}
		return a.FCP
	}
	load() // the browser's own start-up and caches
	var fcps []float64
	for b.Loop() {
		fcps = append(fcps, load())
	}
	b.ReportMetric(median(fcps), "ms-first-paint")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
