package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/internal/pgtest"
	"github.com/aelab/aelab/tracker"
)

// loopback is the Host header of test requests (the server answers only loopback names
// without a token).
const loopback = "127.0.0.1:5555"

func newStore(t testing.TB) *tracker.Store {
	t.Helper()
	s, err := tracker.Open(filepath.Join(t.TempDir(), "aelab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newServer(t testing.TB, store *tracker.Store, opts Options) *Server {
	t.Helper()
	srv, err := New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// do sends one request to h and returns the answer. Headers are "Name: value" strings.
func do(t testing.TB, h http.Handler, method, target string, body url.Values, headers ...string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = strings.NewReader(body.Encode())
	}
	req := httptest.NewRequest(method, target, r)
	req.Host = loopback
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func readBody(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logRuns records n finished runs as the runner logs them (experiments.LogEpoch, through the
// tracker API): run-NNN with params model (the course's three in turn) and i, tag group = i%4,
// and three epochs whose validation BCE (the chart metric) ends at 1/(i+1).
func logRuns(t testing.TB, store *tracker.Store, n int) []string {
	t.Helper()
	models := []string{aelib.ModelVanilla, aelib.ModelDeep, aelib.ModelDenoise}
	ids := make([]string, n)
	for i := range n {
		run, err := store.StartRun(tracker.RunSpec{Experiment: "web-test", Name: fmt.Sprintf("run-%03d", i),
			Params: map[string]string{"model": models[i%3], "i": fmt.Sprint(i)},
			Tags:   map[string]string{"group": fmt.Sprint(i % 4)}})
		if err != nil {
			t.Fatal(err)
		}
		for epoch := 1; epoch <= 3; epoch++ {
			v := float64(4-epoch) / float64(i+1) / 3
			m := aelib.EpochMetrics{Epoch: epoch, Step: int64(epoch * 10), TrainLoss: 2 * v, ValLoss: v, ValMSE: v / 10, ValMAE: v / 4, Seconds: 1, TrainSeconds: 0.9}
			if err := experiments.LogEpoch(run, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := run.Finish(tracker.StatusFinished, ""); err != nil {
			t.Fatal(err)
		}
		ids[i] = run.ID()
		time.Sleep(time.Millisecond) // distinct start times: lists are newest first, ties by random id
	}
	return ids
}

// trained is a store with real trainings (tiny MNIST subsets) through experiments.Run, made
// once for the tests that need real runs: a vanilla and a denoising run, with checkpoints.
var trained struct {
	once    sync.Once
	dir     string
	vanilla string
	denoise string
	err     error
}

func trainedStore(t *testing.T) (path, vanilla, denoise string) {
	t.Helper()
	if testing.Short() {
		t.Skip("trains models: skipped in -short mode")
	}
	trained.once.Do(func() {
		trained.dir, trained.err = os.MkdirTemp("", "aelab-web-test-")
		if trained.err != nil {
			return
		}
		store, err := tracker.Open(filepath.Join(trained.dir, "aelab.db"))
		if err != nil {
			trained.err = err
			return
		}
		defer store.Close()
		for _, m := range []struct {
			model string
			id    *string
		}{{aelib.ModelVanilla, &trained.vanilla}, {aelib.ModelDenoise, &trained.denoise}} {
			p, err := experiments.LookupPreset(m.model)
			if err != nil {
				trained.err = err
				return
			}
			cfg := p.Config
			cfg.Epochs, cfg.TrainSubset, cfg.TestSubset = 2, 256, 128
			res, err := experiments.Run(context.Background(), store, experiments.Spec{Config: cfg, Section: p.Section, Source: "test"}, experiments.Options{})
			if err != nil {
				trained.err = fmt.Errorf("training %s: %w", m.model, err)
				return
			}
			*m.id = res.RunID
		}
	})
	if trained.err != nil {
		t.Fatal(trained.err)
	}
	return filepath.Join(trained.dir, "aelab.db"), trained.vanilla, trained.denoise
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	if trained.dir != "" {
		os.RemoveAll(trained.dir)
	}
	os.Exit(code)
}
