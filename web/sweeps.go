package web

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aelab/aelab/experiments"
	"github.com/aelab/aelab/reports"
	"github.com/aelab/aelab/tracker"
)

// sweepsView is the sweeps page's data: the list of sweeps, or one sweep (Sweep set). Live
// while trials are still queued or running: the page then follows the store.
type sweepsView struct {
	Sweeps []sweepSummary
	Sweep  *sweepDetail
	Live   bool
}

// unfinished says whether a sweep still has trials to run (none once it is cancelled).
func unfinished(rep *reports.SweepReport) bool {
	return rep.Sweep.Cancelled.IsZero() && rep.Counts().Pending() > 0
}

// sweepSummary is one sweep in the list.
type sweepSummary struct {
	ID, Name, Model, Metric, States string
	Trials, Done                    int
	BestRun, BestValue              string
	Created                         time.Time
	Cancelled                       bool
}

// sweepDetail is one sweep: its trials, the best one and the parallel-coordinates figure.
type sweepDetail struct {
	Sweep    *tracker.Sweep
	Summary  string
	Params   []string
	Trials   []sweepTrialRow
	Best     *sweepTrialRow
	Config   [][2]string // the best trial's run params
	Metrics  [][2]string // and its main metrics
	Parallel template.URL
	Caption  string
	Chart    *chartView // the trials' learning curves
	RunsURL  string     // the runs page showing the trials' runs
	// ParallelURL opens the trials in the interactive parallel coordinates.
	ParallelURL string
}

// sweepTrialRow is one trial of the table.
type sweepTrialRow struct {
	Index                int
	Values               []string // the parameters' values, in the sweep's order
	Status, StatusClass  string
	Value, Epochs, RunID string
	Stopped              string
	Attempts             int
	IsBest               bool
}

// bestMetrics are the best trial's metrics the page shows, when its run has them.
var bestMetrics = []experiments.Metric{experiments.ValBCE, experiments.ValMSE, experiments.TestBCE, experiments.TestMSE,
	experiments.TestPSNR, experiments.TestSSIM, experiments.DenoisedMSE, experiments.ImprovementPct,
	experiments.ParamCount, experiments.SecondsPerEpoch}

// sweepsData reads the store's sweeps, newest first, with their trials' states and best value.
func (s *Server) sweepsData() (*sweepsView, error) {
	list, err := s.store.Sweeps()
	if err != nil {
		return nil, err
	}
	v := &sweepsView{Sweeps: []sweepSummary{}}
	for _, sw := range list {
		rep, err := reports.BuildSweep(s.store, sw.ID, reports.SweepOptions{NoFigures: true})
		if err != nil {
			return nil, err
		}
		counts := rep.Counts()
		sum := sweepSummary{ID: sw.ID, Name: sw.Name, Model: sw.Model, Metric: sw.Metric, States: counts.String(),
			Trials: len(sw.Trials), Done: counts.Done(), Created: sw.Created, Cancelled: !sw.Cancelled.IsZero()}
		if b := rep.Best; b != nil {
			sum.BestRun, sum.BestValue = b.Run.ID, metricMeta(sw.Metric).Format(b.Value)
		}
		v.Sweeps = append(v.Sweeps, sum)
		v.Live = v.Live || unfinished(rep)
	}
	return v, nil
}

// sweepData reads one sweep for its page.
func (s *Server) sweepData(id string) (*sweepsView, error) {
	rep, err := reports.BuildSweep(s.store, id, reports.SweepOptions{NoFigures: true})
	if err != nil {
		return nil, err
	}
	sw := rep.Sweep
	d := &sweepDetail{Sweep: sw, Params: sw.Parameters, Summary: fmt.Sprintf("%d trials of model %s: %s. Metric %s (%s).",
		len(rep.Trials), sw.Model, rep.Counts(), sw.Metric, map[bool]string{true: "lower is better", false: "higher is better"}[sw.LowerIsBetter])}
	d.RunsURL = "/?" + url.Values{"q": {fmt.Sprintf("tags.%s = %q", tracker.TagSweepID, sw.ID)}}.Encode()
	// The interactive parallel coordinates of its trials: the swept params and the metric.
	pq := url.Values{"q": {fmt.Sprintf("tags.%s = %q", tracker.TagSweepID, sw.ID)}, "color": {"metrics." + sw.Metric}}
	for _, p := range sw.Parameters {
		pq.Add("axis", "params."+p)
	}
	pq.Add("axis", "metrics."+sw.Metric)
	d.ParallelURL = "/parallel?" + pq.Encode()
	for _, t := range rep.Trials {
		row := sweepTrialRow{Index: t.Index, Status: string(t.State), Attempts: t.Attempts, Value: "–", Epochs: "–"}
		for _, p := range sw.Parameters {
			row.Values = append(row.Values, t.Params[p])
		}
		row.StatusClass = "status-" + strings.ReplaceAll(row.Status, " ", "-")
		if !math.IsNaN(t.Value) {
			row.Value = metricMeta(sw.Metric).Format(t.Value)
		}
		if t.Run != nil {
			row.RunID, row.Epochs = t.Run.ID, strconv.Itoa(len(t.Curve))
		}
		if t.StoppedEpoch > 0 {
			row.Stopped = fmt.Sprintf("after epoch %d: %s", t.StoppedEpoch, t.StoppedWhy)
		}
		row.IsBest = t == rep.Best
		d.Trials = append(d.Trials, row)
	}
	for i := range d.Trials {
		if d.Trials[i].IsBest {
			d.Best = &d.Trials[i]
		}
	}
	if b := rep.Best; b != nil {
		for _, k := range slices.Sorted(maps.Keys(b.Run.Params)) {
			d.Config = append(d.Config, [2]string{k, b.Run.Params[k]})
		}
		for _, m := range bestMetrics {
			if v, ok := b.Run.Metrics[m.Name]; ok {
				d.Metrics = append(d.Metrics, [2]string{m.Label(), m.Format(v)})
			}
		}
	}
	fig, err := rep.ParallelCoordinates()
	if err != nil {
		return nil, err
	}
	if fig != nil {
		d.Parallel, d.Caption = template.URL(fig.DataURI()), fig.Caption // a PNG this server drew
	}
	// The trials' curves, in trial order (so a trial keeps its colour as others finish).
	var recs []*tracker.RunRecord
	for _, t := range rep.Trials {
		if t.Run != nil && len(recs) < maxChartRuns {
			recs = append(recs, t.Run)
		}
	}
	live := unfinished(rep)
	if len(recs) > 0 {
		if d.Chart, err = s.newChartView(recs, rep.CurveMetric); err != nil {
			return nil, err
		}
		d.Chart.Live = d.Chart.Live || live
	}
	return &sweepsView{Sweep: d, Live: live}, nil
}

func (s *Server) sweepsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.sweepsData()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.page(w, r, "sweeps", "Sweeps", v)
}

func (s *Server) sweepPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.sweepData(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, sweepErrorCode(err), err)
		return
	}
	s.page(w, r, "sweeps", "Sweep "+v.Sweep.Sweep.Name, v)
}

func sweepErrorCode(err error) int {
	if errors.Is(err, tracker.ErrNoSweep) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// sweepReport serves a sweep's full report (package reports), the document `aelab sweep
// report` writes, built once per state of its runs.
func (s *Server) sweepReport(w http.ResponseWriter, r *http.Request) {
	sw, err := s.store.GetSweep(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, sweepErrorCode(err), err)
		return
	}
	runs, err := s.store.SweepRuns(sw.ID, -1)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.serveReport(w, r, fmt.Sprintf("sweep %s cancelled %d", sw.ID, sw.Cancelled.UnixMilli()), runIDs(runs), func() (string, error) {
		rep, err := reports.BuildSweep(s.store, sw.ID, reports.SweepOptions{})
		if err != nil {
			return "", err
		}
		return rep.Document(), nil
	})
}
