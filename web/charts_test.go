package web

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/tracker"
)

func TestLTTBKeepsShapeAndEnds(t *testing.T) {
	const n = 10000
	x, y := make([]float64, n), make([]float64, n)
	for i := range n {
		x[i], y[i] = float64(i), math.Sin(float64(i)/500)
	}
	y[4321] = 50 // a spike averaging would flatten
	xs, ys := lttb(x, y, 200)
	if len(xs) != 200 || len(ys) != 200 {
		t.Fatalf("%d points, want 200", len(xs))
	}
	if xs[0] != 0 || xs[199] != n-1 || ys[199] != y[n-1] {
		t.Errorf("ends not kept: %v … %v", xs[0], xs[199])
	}
	if !slices.IsSorted(xs) {
		t.Error("x not increasing")
	}
	if !slices.Contains(ys, 50) {
		t.Error("the spike was dropped")
	}
	lo, hi := slices.Min(ys[:len(ys)-1]), slices.Max(slices.DeleteFunc(slices.Clone(ys), func(v float64) bool { return v == 50 }))
	if lo > -0.99 || hi < 0.99 {
		t.Errorf("the sine's extremes are lost: %v … %v", lo, hi)
	}
	if xs2, _ := lttb(x[:50], y[:50], 200); len(xs2) != 50 {
		t.Error("a short series was changed")
	}
}

func TestSeriesAreDownsampledOnTheServer(t *testing.T) {
	store := newStore(t)
	sampled := experiments.SystemCPU.Name // a metric the system monitor logs every few seconds
	run, err := store.StartRun(tracker.RunSpec{Name: "long"})
	if err != nil {
		t.Fatal(err)
	}
	const steps = 5000
	for i := range steps {
		v := 1 / float64(i+1)
		if i == 2500 {
			v = 7 // a spike
		}
		if i == 10 {
			v = math.NaN()
		}
		if err := experiments.LogSample(run, map[string]float64{sampled: v}, int64(i), i/500+1); err != nil {
			t.Fatal(err)
		}
	}
	short := logRuns(t, store, 1)[0]
	h := newServer(t, store, Options{}).Handler()
	res := do(t, h, "GET", "/api/series?key="+sampled+"&run="+run.ID()+"&run="+short, nil)
	var c chartJSON
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%d, %v", res.StatusCode, err)
	}
	if c.X != "step" || len(c.Series) != 2 || c.Title != metricMeta(sampled).Title {
		t.Fatalf("answer %+v", c)
	}
	long := c.Series[0]
	if long.Total != steps || long.NonFinite != 1 || len(long.X) != maxSeriesPoints || len(long.Y) != maxSeriesPoints {
		t.Errorf("long series: total %d, nonfinite %d, %d points; want %d, 1, %d", long.Total, long.NonFinite, len(long.X), steps, maxSeriesPoints)
	}
	if !slices.Contains(long.Y, 7) || long.X[len(long.X)-1] != steps-1 {
		t.Error("the spike or the last step is lost")
	}
	if s := c.Series[1]; s.Total != 0 || len(s.X) != 0 {
		t.Errorf("a run without the metric: %+v", s)
	}
	// One value per epoch: the epoch axis.
	res = do(t, h, "GET", "/api/series?key="+chartMetric+"&run="+short, nil)
	json.NewDecoder(res.Body).Decode(&c)
	if c.X != "epoch" || !slices.Equal(c.Series[0].X, []float64{1, 2, 3}) {
		t.Errorf("per-epoch metric: axis %s, x %v", c.X, c.Series[0].X)
	}
	res = do(t, h, "GET", "/api/series?key="+sampled+"&x=epoch&points=10&run="+run.ID(), nil)
	json.NewDecoder(res.Body).Decode(&c)
	if len(c.Series[0].X) != 10 || c.Series[0].X[9] != 10 {
		t.Errorf("epoch axis for a step metric: %v", c.Series[0].X)
	}
	var curves []keyOption
	json.NewDecoder(do(t, h, "GET", "/api/curves?run="+run.ID()+","+short, nil).Body).Decode(&curves)
	i := slices.IndexFunc(curves, func(k keyOption) bool { return k.Key == sampled })
	if i < 0 || curves[i] != (keyOption{Key: sampled, Title: metricMeta(sampled).Title, Points: steps}) ||
		!slices.ContainsFunc(curves, func(k keyOption) bool { return k.Key == chartMetric }) {
		t.Errorf("curves %+v", curves)
	}
	for _, bad := range []string{"/api/series?run=" + short, "/api/series?key=x&x=fortnight&run=" + short, "/api/series?key=x&points=many&run=" + short} {
		if res := do(t, h, "GET", bad, nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, res.StatusCode)
		}
	}
	run.Finish(tracker.StatusFinished, "")
}

func TestEventsFollowTheStore(t *testing.T) {
	store := newStore(t)
	run, err := store.StartRun(tracker.RunSpec{Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(t, store, Options{PollInterval: 20 * time.Millisecond}).Handler())
	defer srv.Close()
	for _, target := range []string{"/api/events?run=" + run.ID(), "/api/events"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+target, nil)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("%s: content type %q", target, ct)
		}
		events := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					events <- v
				}
			}
			close(events)
		}()
		first := <-events
		if first == "" {
			t.Fatalf("%s: no first event", target)
		}
		// Another writer (here the same process) logs a metric: a change arrives.
		if err := experiments.LogEpoch(run, aelib.EpochMetrics{Epoch: len(target), Step: int64(len(target)), ValLoss: 0.5}); err != nil {
			t.Fatal(err)
		}
		select {
		case next, ok := <-events:
			if !ok || next == first {
				t.Errorf("%s: after a metric, event %q (open %v), first was %q", target, next, ok, first)
			}
		case <-ctx.Done():
			t.Errorf("%s: no event after a metric was logged", target)
		}
		cancel()
		res.Body.Close()
	}
	run.Finish(tracker.StatusFinished, "")
}
